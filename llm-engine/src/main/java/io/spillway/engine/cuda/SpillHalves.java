package io.spillway.engine.cuda;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * fp16 rows between device bytes (little-endian) and a spill stream, where the CPU caches write each
 * half as a big-endian short: one format whichever backend wrote it.
 */
final class SpillHalves {
    private SpillHalves() {
    }

    /** Writes the {@code count} halves at {@code le[off..]}. */
    static void write(DataOutput out, byte[] le, int off, int count) throws IOException {
        out.write(swapped(le, off, count));
    }

    /** Reads {@code count} halves into {@code le[off..]}. */
    static void read(DataInput in, byte[] le, int off, int count) throws IOException {
        byte[] be = new byte[2 * count];
        in.readFully(be);
        byte[] swapped = swapped(be, 0, count);
        System.arraycopy(swapped, 0, le, off, 2 * count);
    }

    /** Bulk views in the two byte orders: the JIT swaps whole vectors, not a byte at a time. */
    private static byte[] swapped(byte[] src, int off, int count) {
        byte[] out = new byte[2 * count];
        ByteBuffer.wrap(out).asShortBuffer().put(ByteBuffer.wrap(src, off, 2 * count).slice().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer());
        return out;
    }
}
