package io.spillway.kvquant.spill;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/** The container's constants and the encoding helpers that writer and reader share (layout: package doc). */
final class SpillFormat {
    static final byte[] MAGIC = {'S', 'P', 'K', 'V'};
    static final byte SECTION_TAG = 'S';
    static final byte TRAILER_TAG = 'E';

    // Every length read from a blob is checked against one of these before anything is allocated,
    // so a damaged length costs at most a 16 MiB buffer, never gigabytes.
    static final int MAX_NAME_BYTES = 256;
    static final int MAX_MANIFEST_BYTES = 1 << 20;
    static final int MAX_FRAME_BYTES = 16 << 20;

    /** Frame size the writer uses: its only buffer per open section. */
    static final int DEFAULT_FRAME_BYTES = 64 << 10;

    private SpillFormat() {
    }

    /** UTF-8 bytes of {@code s}, refusing unpaired surrogates (which would silently become '?'). */
    static byte[] utf8(String s, String what) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(s));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid Unicode (unpaired surrogate): " + s, e);
        }
    }

    /** Strict UTF-8 decoding; {@code null} when the bytes are not UTF-8. */
    static String utf8OrNull(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** Feeds the four big-endian bytes of {@code v}: {@link CRC32C#update(int)} takes only one byte. */
    static void updateInt(CRC32C crc, int v) {
        crc.update(v >>> 24);
        crc.update(v >>> 16);
        crc.update(v >>> 8);
        crc.update(v);
    }

    static void putInt(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 24);
        b[off + 1] = (byte) (v >>> 16);
        b[off + 2] = (byte) (v >>> 8);
        b[off + 3] = (byte) v;
    }

    static String hex(int crc) {
        return String.format("%08x", crc);
    }
}
