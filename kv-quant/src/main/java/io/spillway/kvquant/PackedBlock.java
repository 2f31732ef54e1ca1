package io.spillway.kvquant;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A block of {@code rows} tokens x {@code cols} channels quantized asymmetrically to 2, 4 or 8 bits
 * ({@code x ~ min + q * scale}, scale and min in fp16), with codes packed little-endian in bytes.
 * Groups run along a token's channels ({@link Axis#TOKEN}, {@code groupSize} channels a group, bits
 * chosen per token) or along a channel's tokens ({@link Axis#CHANNEL}, {@code groupSize} tokens a group: KIVI's keys).
 *
 * <p>A group whose range is zero or too small for an fp16 scale stores scale 0 and decodes to its
 * min exactly: never a division by zero, never NaN.
 */
public final class PackedBlock {
    public enum Axis { TOKEN, CHANNEL }

    private final Axis axis;
    private final int rows;
    private final int cols;
    private final int groupSize;
    private final byte[] rowBits;
    private final int[] rowOffset;
    private final byte[] codes;
    private final short[] scales;
    private final short[] mins;

    private PackedBlock(Axis axis, int rows, int cols, int groupSize, byte[] rowBits, byte[] codes, short[] scales, short[] mins) {
        this.axis = axis;
        this.rows = rows;
        this.cols = cols;
        this.groupSize = groupSize;
        this.rowBits = rowBits;
        this.rowOffset = new int[rows + 1];
        for (int r = 0; r < rows; r++) {
            rowOffset[r + 1] = rowOffset[r] + cols * rowBits[r] / 8;
        }
        this.codes = codes;
        this.scales = scales;
        this.mins = mins;
    }

    static void checkBits(int bits) {
        if (bits != 2 && bits != 4 && bits != 8) {
            throw new IllegalArgumentException("bits must be 2, 4 or 8, got " + bits);
        }
    }

    /** Per-token groups of {@code groupSize} channels; {@code bits[r]} for token {@code r}. */
    public static PackedBlock perToken(float[] src, int off, int rows, int cols, int groupSize, int[] bits) {
        if (groupSize <= 0 || cols % groupSize != 0) {
            throw new IllegalArgumentException("group size " + groupSize + " must divide the " + cols + " channels");
        }
        byte[] rowBits = new byte[rows];
        int total = 0;
        for (int r = 0; r < rows; r++) {
            checkBits(bits[r]);
            rowBits[r] = (byte) bits[r];
            total += cols * bits[r] / 8;
        }
        int groups = cols / groupSize;
        PackedBlock b = new PackedBlock(Axis.TOKEN, rows, cols, groupSize, rowBits, new byte[total],
                new short[rows * groups], new short[rows * groups]);
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < groups; g++) {
                int base = off + r * cols + g * groupSize;
                b.quantizeGroup(r * groups + g, src, base, 1, groupSize, r, g * groupSize, 1, bits[r]);
            }
        }
        return b;
    }

    /**
     * A per-token block from another packer's output (the GPU's): codes packed as this class stores them, row by
     * row, column {@code c} at bit {@code c * bits} (from the low bits of a byte up), kept, not copied; and each
     * group's fp16 scale and minimum bits ({@code [r * groups + g]}).
     */
    public static PackedBlock ofPacked(int rows, int cols, int groupSize, int bits, byte[] packed, short[] scales, short[] mins) {
        checkBits(bits);
        int groups = groupSize <= 0 ? -1 : cols / groupSize;
        if (groups < 0 || cols % groupSize != 0 || (long) cols * bits % 8 != 0 || packed.length != rows * cols * bits / 8
                || scales.length != rows * groups || mins.length != rows * groups) {
            throw new IllegalArgumentException("codes, scales and mins do not fit " + rows + "x" + cols + " in groups of " + groupSize);
        }
        byte[] rowBits = new byte[rows];
        Arrays.fill(rowBits, (byte) bits);
        return new PackedBlock(Axis.TOKEN, rows, cols, groupSize, rowBits, packed, scales.clone(), mins.clone());
    }

    /** Copies the packed codes as {@link #ofPacked} takes them (rows of uniform width) to {@code dst[off..]}. */
    public void copyPacked(byte[] dst, int off) {
        if (!uniformBits()) {
            throw new IllegalStateException("the block's rows have different bit widths");
        }
        System.arraycopy(codes, 0, dst, off, codes.length);
    }

    /**
     * Per-channel groups of {@code groupRows} consecutive tokens (the last may be shorter), {@code bits} each.
     */
    public static PackedBlock perChannel(float[] src, int off, int rows, int cols, int groupRows, int bits) {
        checkBits(bits);
        if (groupRows <= 0) {
            throw new IllegalArgumentException("token group must be positive, got " + groupRows);
        }
        byte[] rowBits = new byte[rows];
        Arrays.fill(rowBits, (byte) bits);
        int tokenGroups = (rows + groupRows - 1) / groupRows;
        PackedBlock b = new PackedBlock(Axis.CHANNEL, rows, cols, groupRows, rowBits, new byte[rows * cols * bits / 8],
                new short[tokenGroups * cols], new short[tokenGroups * cols]);
        for (int tg = 0; tg < tokenGroups; tg++) {
            int r0 = tg * groupRows;
            int n = Math.min(groupRows, rows - r0);
            for (int c = 0; c < cols; c++) {
                b.quantizeGroup(tg * cols + c, src, off + r0 * cols + c, cols, n, r0, c, cols, bits);
            }
        }
        return b;
    }

    /**
     * Quantizes {@code n} values {@code src[base + i * srcStride]} into group {@code group}; value i
     * lands at element {@code (row0, col0) + i * step} where step walks a row ({@code 1}) or a column.
     */
    private void quantizeGroup(int group, float[] src, int base, int srcStride, int n, int row0, int col0, int step, int bits) {
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            float v = src[base + i * srcStride];
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        int levels = (1 << bits) - 1;
        short minH = Fp16.of(min);
        short scaleH = Fp16.of((max - min) / levels);
        float lo = Fp16.value(minH);
        float scale = Fp16.value(scaleH);
        if (!(scale > 0) || !Float.isFinite(scale)) {
            scaleH = 0;
            scale = 0;
        }
        scales[group] = scaleH;
        mins[group] = minH;
        float inv = scale == 0 ? 0 : 1f / scale;
        for (int i = 0; i < n; i++) {
            int q = Math.round((src[base + i * srcStride] - lo) * inv);
            q = Math.max(0, Math.min(levels, q));
            int row = step == 1 ? row0 : row0 + i;
            int col = step == 1 ? col0 + i : col0;
            setCode(row, col, q);
        }
    }

    private void setCode(int row, int col, int q) {
        int bits = rowBits[row];
        int bit = col * bits;
        int at = rowOffset[row] + (bit >>> 3);
        codes[at] = (byte) (codes[at] | (q << (bit & 7)));
    }

    /** The stored code of element ({@code row}, {@code col}). */
    public int code(int row, int col) {
        int bits = rowBits[row];
        int bit = col * bits;
        return (codes[rowOffset[row] + (bit >>> 3)] >>> (bit & 7)) & ((1 << bits) - 1);
    }

    /** Decodes token {@code row} into {@code dst[dstOff .. dstOff + cols)}. */
    public void dequantizeRow(int row, float[] dst, int dstOff) {
        if (axis == Axis.TOKEN) {
            int groups = cols / groupSize;
            for (int g = 0; g < groups; g++) {
                float scale = Fp16.value(scales[row * groups + g]);
                float min = Fp16.value(mins[row * groups + g]);
                for (int c = g * groupSize; c < (g + 1) * groupSize; c++) {
                    dst[dstOff + c] = min + code(row, c) * scale;
                }
            }
        } else {
            int base = row / groupSize * cols;
            for (int c = 0; c < cols; c++) {
                dst[dstOff + c] = Fp16.value(mins[base + c]) + code(row, c) * Fp16.value(scales[base + c]);
            }
        }
    }

    public Axis axis() {
        return axis;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int bits(int row) {
        return rowBits[row];
    }

    public int groupSize() {
        return groupSize;
    }

    /** fp16 bits of group {@code group}'s scale: per token, {@code row * (cols / groupSize) + g}. */
    public short scaleBits(int group) {
        return scales[group];
    }

    /** fp16 bits of group {@code group}'s minimum, indexed as {@link #scaleBits}. */
    public short minBits(int group) {
        return mins[group];
    }

    /** Stored bytes: codes, scales and mins, plus a bit width per token when they differ. */
    public long bytes() {
        return codes.length + 2L * (scales.length + mins.length) + (uniformBits() ? 0 : rows);
    }

    private boolean uniformBits() {
        for (byte b : rowBits) {
            if (b != rowBits[0]) {
                return false;
            }
        }
        return true;
    }

    public void writeTo(DataOutput out) throws IOException {
        out.writeByte(axis.ordinal());
        out.writeInt(rows);
        out.writeInt(cols);
        out.writeInt(groupSize);
        out.write(rowBits);
        out.write(codes);
        out.write(bigEndian(scales));
        out.write(bigEndian(mins));
    }

    /** The shorts as {@link DataOutput#writeShort} writes them, converted in bulk. */
    private static byte[] bigEndian(short[] values) {
        byte[] out = new byte[2 * values.length];
        ByteBuffer.wrap(out).asShortBuffer().put(values);
        return out;
    }

    private static short[] readShorts(DataInput in, int n) throws IOException {
        byte[] raw = new byte[2 * n];
        in.readFully(raw);
        short[] out = new short[n];
        ByteBuffer.wrap(raw).asShortBuffer().get(out);
        return out;
    }

    /** Reads what {@link #writeTo} wrote, refusing shapes that do not hold together. */
    public static PackedBlock readFrom(DataInput in) throws IOException {
        int axisOrdinal = in.readUnsignedByte();
        if (axisOrdinal >= Axis.values().length) {
            throw new IOException("corrupt block: unknown axis " + axisOrdinal);
        }
        Axis axis = Axis.values()[axisOrdinal];
        int rows = in.readInt();
        int cols = in.readInt();
        int groupSize = in.readInt();
        if (rows <= 0 || cols <= 0 || rows > 1 << 20 || cols > 1 << 16 || groupSize <= 0
                || (axis == Axis.TOKEN && cols % groupSize != 0)) {
            throw new IOException("corrupt block: shape " + rows + "x" + cols + " group " + groupSize);
        }
        byte[] rowBits = new byte[rows];
        in.readFully(rowBits);
        long total = 0;
        for (byte b : rowBits) {
            if (b != 2 && b != 4 && b != 8) {
                throw new IOException("corrupt block: bit width " + b);
            }
            total += (long) cols * b / 8;
        }
        byte[] codes = new byte[Math.toIntExact(total)];
        in.readFully(codes);
        int groups = axis == Axis.TOKEN ? rows * (cols / groupSize) : (rows + groupSize - 1) / groupSize * cols;
        short[] scales = readShorts(in, groups);
        short[] mins = readShorts(in, groups);
        return new PackedBlock(axis, rows, cols, groupSize, rowBits, codes, scales, mins);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PackedBlock p && axis == p.axis && rows == p.rows && cols == p.cols && groupSize == p.groupSize
                && Arrays.equals(rowBits, p.rowBits) && Arrays.equals(codes, p.codes)
                && Arrays.equals(scales, p.scales) && Arrays.equals(mins, p.mins);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codes) * 31 + Arrays.hashCode(scales);
    }
}
