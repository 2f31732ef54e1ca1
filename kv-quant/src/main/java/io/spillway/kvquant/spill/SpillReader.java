package io.spillway.kvquant.spill;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * Reads a spill blob written by {@link SpillWriter}. {@link #open} checks the magic, the container
 * version, the manifest's CRC32C and the manifest against what this worker runs; {@link #next()}
 * then yields the sections in order and, after the last, checks the trailer.
 *
 * <p>Every frame of a section is checked against its CRC32C before any of its bytes is handed out,
 * and each section's total length and CRC32C when its stream reaches the end (before {@code read}
 * returns -1). Damage that only the section or trailer checks can see (lost, repeated or reordered
 * frames or sections) is reported at the end of that section or by the {@code next()} that finds
 * the trailer: restored content is trustworthy once {@code next()} has returned empty.
 * Every problem with the bytes is a {@link SpillFormatException}; after one, the reader refuses
 * further reads with the same exception. Reads nothing past the trailer, so a blob may be embedded
 * in a longer stream; does not buffer, so pass a buffered stream. Not thread-safe.
 */
public final class SpillReader implements AutoCloseable {

    /** One section: its name and a stream of its content, verified as it is read. */
    public static final class Section {
        private final String name;
        private final SectionInput input;

        private Section(String name, SectionInput input) {
            this.name = name;
            this.input = input;
        }

        public String name() {
            return name;
        }

        /**
         * The content. Returns -1 only after the section's length and CRC32C have been verified; a
         * mismatch or a truncated blob throws {@link SpillCorruptException}. Closing it is optional:
         * {@link SpillReader#next()} reads and verifies whatever is left.
         */
        public InputStream stream() {
            return input;
        }

        /** The rest of the content, verified. */
        public byte[] readAllBytes() throws IOException {
            return input.readAllBytes();
        }

        @Override
        public String toString() {
            return "Section[" + name + "]";
        }
    }

    private final CountingInput counted;
    private final DataInputStream in;
    private final SpillManifest manifest;
    /** Recomputes what the trailer's combined CRC must be: the manifest CRC, then each section's. */
    private final CRC32C combined = new CRC32C();
    private int sectionCount;
    private SectionInput current;
    private String lastSection;
    private boolean ended;
    private boolean closed;
    private SpillFormatException failure;
    /** What is being read, for truncation messages. */
    private String context = "the header";
    private long contextStart;

    private SpillReader(InputStream source) throws IOException {
        counted = new CountingInput(source);
        in = new DataInputStream(counted);
        byte[] magic = new byte[SpillFormat.MAGIC.length];
        readFully(magic, 0, magic.length);
        if (!Arrays.equals(magic, SpillFormat.MAGIC)) {
            throw new SpillFormatException("not a Spillway spill blob: it starts with 0x" + HexFormat.of().formatHex(magic)
                    + ", not 'SPKV'");
        }
        int version = readInt();
        if (version > SpillManifest.FORMAT_VERSION) {
            throw new SpillFormatException("spill blob format version " + version + " is newer than this worker's "
                    + SpillManifest.FORMAT_VERSION + ": upgrade the worker to restore it");
        }
        if (version < 1) {
            throw new SpillFormatException("spill blob format version " + version
                    + " is older than this worker supports (1 to " + SpillManifest.FORMAT_VERSION + ")");
        }
        int length = readInt();
        if (length < 0 || length > SpillFormat.MAX_MANIFEST_BYTES) {
            throw new SpillCorruptException("corrupt spill blob: manifest length " + length + " is outside 0.."
                    + SpillFormat.MAX_MANIFEST_BYTES);
        }
        context = "the manifest";
        contextStart = counted.count;
        byte[] m = in.readNBytes(length); // grows as bytes arrive, like the frames
        if (m.length < length) {
            throw truncated(new EOFException());
        }
        int stored = readInt();
        CRC32C crc = new CRC32C();
        crc.update(m);
        if ((int) crc.getValue() != stored) {
            throw new SpillCorruptException("corrupt spill blob: manifest CRC32C mismatch: stored "
                    + SpillFormat.hex(stored) + ", computed " + SpillFormat.hex((int) crc.getValue()));
        }
        manifest = SpillManifest.decode(m);
        if (manifest.formatVersion() != version) {
            throw new SpillCorruptException("corrupt spill blob: header says format version " + version
                    + ", manifest says " + manifest.formatVersion());
        }
        SpillFormat.updateInt(combined, stored);
        context = null;
    }

    /**
     * Reads the header and manifest and refuses a blob made for anything other than {@code expected}.
     * The reader owns {@code in}: {@link #close()} closes it, and so does a failing {@code open}.
     *
     * @throws SpillMismatchException another model, method, calibration or cache shape
     * @throws SpillCorruptException  damaged or truncated header
     * @throws SpillFormatException   not a spill blob, or a container version this worker does not read
     */
    public static SpillReader open(InputStream in, SpillExpectation expected) throws IOException {
        Objects.requireNonNull(in, "in");
        Objects.requireNonNull(expected, "expected");
        try {
            SpillReader r = new SpillReader(in);
            expected.check(r.manifest);
            return r;
        } catch (IOException | RuntimeException e) {
            try {
                in.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    public SpillManifest manifest() {
        return manifest;
    }

    /**
     * The next section, after reading and verifying whatever the previous one's stream left unread;
     * empty once the trailer has been read and verified.
     */
    public Optional<Section> next() throws IOException {
        ensureUsable();
        if (ended) {
            return Optional.empty();
        }
        try {
            if (current != null) {
                while (!current.done) {
                    current.readFrame();
                }
                current = null;
            }
            context = lastSection == null ? "what follows the manifest" : "what follows section '" + lastSection + "'";
            contextStart = counted.count;
            int tag = readUnsignedByte();
            if (tag == SpillFormat.TRAILER_TAG) {
                readTrailer();
                return Optional.empty();
            }
            if (tag != SpillFormat.SECTION_TAG) {
                throw new SpillCorruptException("corrupt spill blob: byte 0x" + String.format("%02x", tag) + " at offset "
                        + (counted.count - 1) + " starts neither a section nor the trailer (after "
                        + (lastSection == null ? "the manifest" : "section '" + lastSection + "'") + ")");
            }
            return Optional.of(readSectionHeader());
        } catch (SpillFormatException e) {
            failure = e;
            throw e;
        }
    }

    private Section readSectionHeader() throws IOException {
        int nameLength = readUnsignedShort();
        if (nameLength == 0 || nameLength > SpillFormat.MAX_NAME_BYTES) {
            throw new SpillCorruptException("corrupt spill blob: section name length " + nameLength + " at offset "
                    + (counted.count - 2) + " is outside 1.." + SpillFormat.MAX_NAME_BYTES);
        }
        byte[] name = new byte[nameLength];
        readFully(name, 0, nameLength);
        int stored = readInt();
        CRC32C crc = new CRC32C();
        crc.update(SpillFormat.SECTION_TAG);
        crc.update(nameLength >>> 8);
        crc.update(nameLength);
        crc.update(name);
        String decoded = SpillFormat.utf8OrNull(name);
        if ((int) crc.getValue() != stored || decoded == null) {
            throw new SpillCorruptException("corrupt spill blob: header CRC32C mismatch for the section at offset "
                    + contextStart + " (name bytes read as '" + (decoded == null ? "?" : decoded) + "'): stored "
                    + SpillFormat.hex(stored) + ", computed " + SpillFormat.hex((int) crc.getValue()));
        }
        context = "section '" + decoded + "'";
        lastSection = decoded;
        current = new SectionInput(decoded, name);
        return new Section(decoded, current);
    }

    private void readTrailer() throws IOException {
        context = "the trailer";
        int count = readInt();
        int stored = readInt();
        int computed = (int) combined.getValue();
        if (count != sectionCount) {
            throw new SpillCorruptException("corrupt spill blob: the trailer counts " + count + " sections, the blob held "
                    + sectionCount);
        }
        if (stored != computed) {
            throw new SpillCorruptException("corrupt spill blob: trailer CRC32C mismatch over the manifest and "
                    + sectionCount + " sections: stored " + SpillFormat.hex(stored) + ", computed " + SpillFormat.hex(computed));
        }
        ended = true;
        context = null;
    }

    /** Closes the underlying stream. Does not verify anything that was not read. */
    @Override
    public void close() throws IOException {
        if (!closed) {
            closed = true;
            in.close();
        }
    }

    private void ensureUsable() throws IOException {
        if (closed) {
            throw new IOException("spill reader is closed");
        }
        if (failure != null) {
            throw failure;
        }
    }

    // The only reads of the blob: an early end of stream becomes a truncation that says where.

    private int readInt() throws IOException {
        try {
            return in.readInt();
        } catch (EOFException e) {
            throw truncated(e);
        }
    }

    private long readLong() throws IOException {
        try {
            return in.readLong();
        } catch (EOFException e) {
            throw truncated(e);
        }
    }

    private int readUnsignedByte() throws IOException {
        try {
            return in.readUnsignedByte();
        } catch (EOFException e) {
            throw truncated(e);
        }
    }

    private int readUnsignedShort() throws IOException {
        try {
            return in.readUnsignedShort();
        } catch (EOFException e) {
            throw truncated(e);
        }
    }

    private void readFully(byte[] b, int off, int len) throws IOException {
        try {
            in.readFully(b, off, len);
        } catch (EOFException e) {
            throw truncated(e);
        }
    }

    private SpillCorruptException truncated(EOFException e) {
        String where;
        if (context == null) {
            where = "at byte " + counted.count;
        } else if (context.startsWith("section '")) {
            where = "after " + (counted.count - contextStart) + " bytes of " + context + " (the blob ends at byte "
                    + counted.count + ")";
        } else if (context.startsWith("what follows")) {
            where = "at byte " + counted.count + ", after " + sectionCount + " sections: the trailer is missing";
        } else {
            where = "at byte " + counted.count + ", in " + context;
        }
        return new SpillCorruptException("spill blob truncated " + where, e);
    }

    /** A section's content: one verified frame at a time. */
    private final class SectionInput extends InputStream {
        private final String name;
        private final CRC32C sectionCrc = new CRC32C();
        private final CRC32C frameCrc = new CRC32C();
        private byte[] buf = new byte[0];
        private int pos;
        private int limit;
        private long payload;
        private int frames;
        private boolean done;

        SectionInput(String name, byte[] nameBytes) {
            this.name = name;
            sectionCrc.update(nameBytes);
        }

        @Override
        public int read() throws IOException {
            if (!fill()) {
                return -1;
            }
            return buf[pos++] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (!fill()) {
                return -1;
            }
            int k = Math.min(len, limit - pos);
            System.arraycopy(buf, pos, b, off, k);
            pos += k;
            return k;
        }

        @Override
        public int available() {
            return limit - pos;
        }

        /** True when a byte is ready; false at the verified end of the section. */
        private boolean fill() throws IOException {
            if (pos < limit) {
                return true;
            }
            if (done) {
                return false;
            }
            ensureUsable();
            try {
                while (pos == limit && !done) {
                    readFrame();
                }
            } catch (SpillFormatException e) {
                failure = e;
                throw e;
            }
            return pos < limit;
        }

        /** Reads the next frame into the buffer, or the terminator: total length and CRC32C, both checked. */
        void readFrame() throws IOException {
            long frameStart = counted.count;
            int len = readInt();
            if (len == 0) {
                long declared = readLong();
                int stored = readInt();
                int computed = (int) sectionCrc.getValue();
                if (declared != payload) {
                    throw new SpillCorruptException("corrupt spill blob: section '" + name + "' declares " + declared
                            + " bytes, its " + frames + " frames hold " + payload);
                }
                if (stored != computed) {
                    throw new SpillCorruptException("corrupt spill blob: CRC32C mismatch in section '" + name
                            + "': stored " + SpillFormat.hex(stored) + ", computed " + SpillFormat.hex(computed));
                }
                SpillFormat.updateInt(combined, stored);
                sectionCount++;
                done = true;
                pos = limit = 0;
                context = null;
                return;
            }
            if (len < 0 || len > SpillFormat.MAX_FRAME_BYTES) {
                throw new SpillCorruptException("corrupt spill blob: frame " + frames + " of section '" + name
                        + "' at offset " + frameStart + " has length " + len + ", outside 1.." + SpillFormat.MAX_FRAME_BYTES);
            }
            // The buffer grows only as bytes arrive, so a damaged length on a short blob costs about
            // what the blob holds, not the 16 MiB the bound allows.
            int got = 0;
            while (got < len) {
                if (got == buf.length) {
                    buf = Arrays.copyOf(buf, Math.min(len, Math.max(2 * buf.length, SpillFormat.DEFAULT_FRAME_BYTES)));
                }
                int k = Math.min(len, buf.length) - got;
                readFully(buf, got, k);
                got += k;
            }
            int stored = readInt();
            frameCrc.reset();
            SpillFormat.updateInt(frameCrc, len);
            frameCrc.update(buf, 0, len);
            if ((int) frameCrc.getValue() != stored) {
                throw new SpillCorruptException("corrupt spill blob: CRC32C mismatch in frame " + frames + " of section '"
                        + name + "' (content bytes " + payload + ".." + (payload + len) + "): stored "
                        + SpillFormat.hex(stored) + ", computed " + SpillFormat.hex((int) frameCrc.getValue()));
            }
            sectionCrc.update(buf, 0, len);
            payload += len;
            frames++;
            pos = 0;
            limit = len;
        }
    }

    /** Counts the bytes read, for offsets in messages. */
    private static final class CountingInput extends FilterInputStream {
        long count;

        CountingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long k = in.skip(n);
            count += k;
            return k;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
