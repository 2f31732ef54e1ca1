package io.spillway.kvquant.spill;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * Writes a spill blob: the header and manifest at construction, then {@link #section sections}, then
 * {@link #finish()}'s trailer. Memory stays bounded whatever the section sizes: a section streams out
 * as frames of at most 64 KiB, the only buffer the writer holds (layout: package doc).
 *
 * <p>{@link #close()} closes the output but never writes the trailer: a writer abandoned by an
 * exception leaves a blob that every reader refuses as truncated, rather than one that looks complete.
 * Not thread-safe.
 */
public final class SpillWriter implements AutoCloseable {

    private enum State { READY, IN_SECTION, FINISHED, FAILED, CLOSED }

    private final OutputStream out;
    private final int frameBytes;
    /** CRC32C over the manifest's CRC and then every section's, in order: what the trailer carries. */
    private final CRC32C combined = new CRC32C();
    private final byte[] scratch = new byte[16];
    private int sectionCount;
    private State state;
    private String openSection;

    /** Writes the header and manifest at once. {@code manifest.formatVersion()} must be {@link SpillManifest#FORMAT_VERSION}. */
    public SpillWriter(OutputStream out, SpillManifest manifest) throws IOException {
        this(out, manifest, SpillFormat.DEFAULT_FRAME_BYTES);
    }

    /** Tests use small frames to put many frame boundaries into a small blob. */
    SpillWriter(OutputStream out, SpillManifest manifest, int frameBytes) throws IOException {
        this.out = Objects.requireNonNull(out, "out");
        Objects.requireNonNull(manifest, "manifest");
        if (manifest.formatVersion() != SpillManifest.FORMAT_VERSION) {
            throw new IllegalArgumentException("this writer writes format version " + SpillManifest.FORMAT_VERSION
                    + ", the manifest says " + manifest.formatVersion());
        }
        if (frameBytes < 1 || frameBytes > SpillFormat.MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("frame size " + frameBytes);
        }
        this.frameBytes = frameBytes;
        byte[] m = manifest.encode();
        CRC32C crc = new CRC32C();
        crc.update(m);
        int manifestCrc = (int) crc.getValue();
        ByteArrayOutputStream header = new ByteArrayOutputStream(m.length + 16);
        try (DataOutputStream h = new DataOutputStream(header)) {
            h.write(SpillFormat.MAGIC);
            h.writeInt(SpillManifest.FORMAT_VERSION);
            h.writeInt(m.length);
            h.write(m);
            h.writeInt(manifestCrc);
        }
        out.write(header.toByteArray());
        SpillFormat.updateInt(combined, manifestCrc);
        state = State.READY;
    }

    /** Writes a whole section. */
    public void section(String name, byte[] payload) throws IOException {
        Objects.requireNonNull(payload, "payload");
        try (OutputStream s = section(name)) {
            s.write(payload);
        }
    }

    /**
     * Starts a section and returns the stream for its content; closing the stream ends the section
     * (its total length and CRC32C). One section at a time. Closing does not close the writer.
     *
     * @param name 1 to 256 bytes of UTF-8
     */
    public OutputStream section(String name) throws IOException {
        Objects.requireNonNull(name, "name");
        requireState("start section '" + name + "'");
        byte[] nameBytes = SpillFormat.utf8(name, "section name");
        if (nameBytes.length == 0 || nameBytes.length > SpillFormat.MAX_NAME_BYTES) {
            throw new IllegalArgumentException("section name must be 1 to " + SpillFormat.MAX_NAME_BYTES
                    + " bytes of UTF-8, '" + name + "' has " + nameBytes.length);
        }
        // The header has its own CRC so that a reader can trust the name before it hands the section out.
        byte[] header = new byte[1 + 2 + nameBytes.length + 4];
        header[0] = SpillFormat.SECTION_TAG;
        header[1] = (byte) (nameBytes.length >>> 8);
        header[2] = (byte) nameBytes.length;
        System.arraycopy(nameBytes, 0, header, 3, nameBytes.length);
        CRC32C crc = new CRC32C();
        crc.update(header, 0, 3 + nameBytes.length);
        SpillFormat.putInt(header, 3 + nameBytes.length, (int) crc.getValue());
        write(header, 0, header.length);
        state = State.IN_SECTION;
        openSection = name;
        return new SectionOutput(name, nameBytes);
    }

    /** Writes the trailer (section count and combined CRC) and flushes; the blob is complete. */
    public void finish() throws IOException {
        requireState("finish");
        scratch[0] = SpillFormat.TRAILER_TAG;
        SpillFormat.putInt(scratch, 1, sectionCount);
        SpillFormat.putInt(scratch, 5, (int) combined.getValue());
        write(scratch, 0, 9);
        try {
            out.flush();
        } catch (IOException e) {
            state = State.FAILED;
            throw e;
        }
        state = State.FINISHED;
    }

    /** Closes the output. Without {@link #finish()} first, the blob stays incomplete on purpose. */
    @Override
    public void close() throws IOException {
        if (state != State.CLOSED) {
            state = State.CLOSED;
            out.close();
        }
    }

    private void requireState(String action) {
        switch (state) {
            case READY -> {
            }
            case IN_SECTION -> throw new IllegalStateException("cannot " + action + ": section '" + openSection
                    + "' is still open (close its stream first)");
            case FINISHED -> throw new IllegalStateException("cannot " + action + ": the spill writer is finished");
            case FAILED -> throw new IllegalStateException("cannot " + action + ": an earlier write to the spill failed");
            case CLOSED -> throw new IllegalStateException("cannot " + action + ": the spill writer is closed");
        }
    }

    /** Every byte goes out through here: an I/O failure leaves the blob unusable, so the writer refuses further use. */
    private void write(byte[] b, int off, int len) throws IOException {
        try {
            out.write(b, off, len);
        } catch (IOException | RuntimeException e) {
            state = State.FAILED;
            throw e;
        }
    }

    /** A section's content: buffers one frame, emits it when full, ends the section on close. */
    private final class SectionOutput extends OutputStream {
        private final String name;
        private final byte[] buf = new byte[frameBytes];
        private int n;
        /** Over the name and the payload: the section's identity and content in one check. */
        private final CRC32C sectionCrc = new CRC32C();
        private final CRC32C frameCrc = new CRC32C();
        private final byte[] head = new byte[16];
        private long total;
        private boolean closed;

        SectionOutput(String name, byte[] nameBytes) {
            this.name = name;
            sectionCrc.update(nameBytes);
        }

        @Override
        public void write(int b) throws IOException {
            ensureOpen();
            buf[n++] = (byte) b;
            if (n == buf.length) {
                emitBuffered();
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            ensureOpen();
            while (len > 0) {
                if (n == 0 && len >= buf.length) {
                    emit(b, off, buf.length); // a whole frame straight from the caller's array: no copy
                    off += buf.length;
                    len -= buf.length;
                } else {
                    int k = Math.min(len, buf.length - n);
                    System.arraycopy(b, off, buf, n, k);
                    n += k;
                    off += k;
                    len -= k;
                    if (n == buf.length) {
                        emitBuffered();
                    }
                }
            }
        }

        /** Emits what is buffered as a (short) frame and flushes the output. */
        @Override
        public void flush() throws IOException {
            ensureOpen();
            if (n > 0) {
                emitBuffered();
            }
            try {
                out.flush();
            } catch (IOException e) {
                state = State.FAILED;
                throw e;
            }
        }

        /** Ends the section: the last frame, the 0 terminator, total length and CRC32C. Idempotent. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            if (state != State.IN_SECTION) {
                return; // the writer was closed or failed meanwhile: leave the section unterminated
            }
            if (n > 0) {
                emitBuffered();
            }
            int crc = (int) sectionCrc.getValue();
            SpillFormat.putInt(head, 0, 0);
            for (int i = 0; i < 8; i++) {
                head[4 + i] = (byte) (total >>> (56 - 8 * i));
            }
            SpillFormat.putInt(head, 12, crc);
            SpillWriter.this.write(head, 0, 16);
            SpillFormat.updateInt(combined, crc);
            sectionCount++;
            openSection = null;
            state = State.READY;
        }

        private void ensureOpen() {
            if (closed) {
                throw new IllegalStateException("section '" + name + "' is closed");
            }
            if (state != State.IN_SECTION) {
                throw new IllegalStateException("section '" + name + "' cannot be written: the spill writer is "
                        + state.name().toLowerCase(java.util.Locale.ROOT));
            }
        }

        private void emitBuffered() throws IOException {
            emit(buf, 0, n);
            n = 0;
        }

        /** One frame: length, bytes, CRC32C over length and bytes (so the reader can trust it before handing it out). */
        private void emit(byte[] b, int off, int len) throws IOException {
            frameCrc.reset();
            SpillFormat.updateInt(frameCrc, len);
            frameCrc.update(b, off, len);
            SpillFormat.putInt(head, 0, len);
            SpillWriter.this.write(head, 0, 4);
            SpillWriter.this.write(b, off, len);
            SpillFormat.putInt(head, 0, (int) frameCrc.getValue());
            SpillWriter.this.write(head, 0, 4);
            sectionCrc.update(b, off, len);
            total += len;
        }
    }
}
