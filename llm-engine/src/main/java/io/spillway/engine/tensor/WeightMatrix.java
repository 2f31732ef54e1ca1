package io.spillway.engine.tensor;

import io.spillway.engine.model.DType;
import io.spillway.engine.model.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A [rows x cols] weight matrix (PyTorch's {@code Linear.weight} layout: one row per output) read
 * straight from the memory-mapped checkpoint. {@link #matmul} converts a tile of rows to fp32 once
 * and reuses it across a tile of tokens, so batched prefill is compute-bound, not conversion-bound.
 */
public final class WeightMatrix {
    private static final VectorSpecies<Float> F = VectorMath.F;
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int ROW_TILE = 32;
    private static final int TOKEN_TILE = 32;

    private final MemorySegment data;
    private final DType dtype;
    private final int rows;
    private final int cols;

    public WeightMatrix(Tensor t) {
        this(t.data(), t.dtype(), t.rows(), t.cols());
    }

    public WeightMatrix(MemorySegment data, DType dtype, int rows, int cols) {
        this.data = data;
        this.dtype = dtype;
        this.rows = rows;
        this.cols = cols;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Converts {@code count} rows starting at {@code row} to fp32 into {@code dst}, row after row. */
    public void rowsToFloat(int row, int count, float[] dst, int dstOff) {
        long n = (long) count * cols;
        long byteOff = (long) row * cols * dtype.bytes();
        switch (dtype) {
            case F32 -> MemorySegment.copy(data, FLOAT_LE, byteOff, dst, dstOff, (int) n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dstOff + i] = Float.float16ToFloat(data.get(SHORT_LE, byteOff + 2L * i));
                }
            }
            case BF16 -> bf16ToFloat(byteOff, dst, dstOff, (int) n);
        }
    }

    private void bf16ToFloat(long byteOff, float[] dst, int dstOff, int n) {
        int i = 0;
        // bf16 is the top half of an fp32: widen and shift, exactly.
        for (int bound = S.loopBound(n); i < bound; i += S.length()) {
            ((IntVector) ShortVector.fromMemorySegment(S, data, byteOff + 2L * i, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.S2I, I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dstOff + i);
        }
        for (; i < n; i++) {
            dst[dstOff + i] = Float.intBitsToFloat(data.get(SHORT_LE, byteOff + 2L * i) << 16);
        }
    }

    /**
     * {@code out[t][r] = sum_k x[t][k] * W[r][k]} for {@code tokens} rows of {@code x} (row stride
     * {@code cols}); {@code out} has row stride {@link #rows()}.
     */
    public void matmul(float[] x, int tokens, float[] out) {
        int tiles = (rows + ROW_TILE - 1) / ROW_TILE;
        Parallel.forEach(tiles, tile -> {
            int r0 = tile * ROW_TILE;
            int nr = Math.min(ROW_TILE, rows - r0);
            float[] w = new float[nr * cols];
            rowsToFloat(r0, nr, w, 0);
            for (int t0 = 0; t0 < tokens; t0 += TOKEN_TILE) {
                int t1 = Math.min(tokens, t0 + TOKEN_TILE);
                int r = 0;
                for (; r + 4 <= nr; r += 4) {
                    int t = t0;
                    for (; t + 2 <= t1; t += 2) {
                        kernel4x2(w, r, x, t, out, r0);
                    }
                    for (; t < t1; t++) {
                        for (int j = r; j < r + 4; j++) {
                            out[t * rows + r0 + j] = VectorMath.dot(w, j * cols, x, t * cols, cols);
                        }
                    }
                }
                for (; r < nr; r++) {
                    for (int t = t0; t < t1; t++) {
                        out[t * rows + r0 + r] = VectorMath.dot(w, r * cols, x, t * cols, cols);
                    }
                }
            }
        });
    }

    /** Four weight rows against two tokens: eight accumulators, six loads per eight FMAs. */
    private void kernel4x2(float[] w, int r, float[] x, int t, float[] out, int r0) {
        int k = cols;
        int w0 = r * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k;
        int xa = t * k, xb = xa + k;
        FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        int i = 0;
        for (int bound = F.loopBound(k); i < bound; i += F.length()) {
            FloatVector va = FloatVector.fromArray(F, x, xa + i);
            FloatVector vb = FloatVector.fromArray(F, x, xb + i);
            FloatVector v0 = FloatVector.fromArray(F, w, w0 + i);
            a0 = v0.fma(va, a0);
            b0 = v0.fma(vb, b0);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + i);
            a1 = v1.fma(va, a1);
            b1 = v1.fma(vb, b1);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + i);
            a2 = v2.fma(va, a2);
            b2 = v2.fma(vb, b2);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + i);
            a3 = v3.fma(va, a3);
            b3 = v3.fma(vb, b3);
        }
        float[] s = {VectorMath.sum(a0), VectorMath.sum(a1), VectorMath.sum(a2), VectorMath.sum(a3),
                VectorMath.sum(b0), VectorMath.sum(b1), VectorMath.sum(b2), VectorMath.sum(b3)};
        for (; i < k; i++) {
            for (int j = 0; j < 4; j++) {
                s[j] += w[w0 + j * k + i] * x[xa + i];
                s[4 + j] += w[w0 + j * k + i] * x[xb + i];
            }
        }
        int ra = t * rows + r0 + r;
        int rb = ra + rows;
        for (int j = 0; j < 4; j++) {
            out[ra + j] = s[j];
            out[rb + j] = s[4 + j];
        }
    }
}
