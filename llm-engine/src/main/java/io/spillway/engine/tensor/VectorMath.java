package io.spillway.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.util.List;
import java.util.stream.IntStream;

/** The element-wise and reduction kernels of the forward pass, on the Vector API. */
public final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Shuffles that bring lane i + w to lane i, for w = half the lanes, a quarter, ..., 1. */
    private static final List<VectorShuffle<Float>> HALVES = IntStream.iterate(F.length() / 2, w -> w >= 1, w -> w / 2)
            .mapToObj(w -> VectorShuffle.fromOp(F, i -> (i + w) % F.length())).toList();

    private VectorMath() {
    }

    /**
     * The sum of {@code v}'s lanes in one fixed order, a halving tree. {@code reduceLanes(ADD)} leaves the
     * order to the implementation, and the interpreter's differs from the compiled code's: a forward
     * pass would round otherwise once the JIT has compiled it, enough to flip a 2-bit code and make two
     * runs of the same greedy request diverge.
     */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : HALVES) {
            v = v.add(v.rearrange(s));
        }
        return v.lane(0);
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = sum(acc);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    /** {@code y[yOff..] += alpha * x[xOff..]} over {@code n} elements. */
    public static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        int i = 0;
        FloatVector a = FloatVector.broadcast(F, alpha);
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, xOff + i).fma(a, FloatVector.fromArray(F, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    public static void scale(float[] x, int off, int n, float s) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector.fromArray(F, x, off + i).mul(s).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= s;
        }
    }

    /** {@code a += b} over the whole arrays. */
    public static void add(float[] a, float[] b) {
        int i = 0;
        for (int bound = F.loopBound(a.length); i < bound; i += F.length()) {
            FloatVector.fromArray(F, a, i).add(FloatVector.fromArray(F, b, i)).intoArray(a, i);
        }
        for (; i < a.length; i++) {
            a[i] += b[i];
        }
    }

    /**
     * Llama's RMSNorm in fp32: {@code out = weight * x / sqrt(mean(x^2) + eps)}, for each of the rows
     * of width {@code n} in {@code x}.
     */
    public static void rmsNorm(float[] x, float[] weight, float eps, float[] out, int rows) {
        int n = weight.length;
        for (int r = 0; r < rows; r++) {
            int off = r * n;
            float ss = dot(x, off, x, off, n);
            float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
            int i = 0;
            for (int bound = F.loopBound(n); i < bound; i += F.length()) {
                FloatVector.fromArray(F, x, off + i).mul(inv).mul(FloatVector.fromArray(F, weight, i)).intoArray(out, off + i);
            }
            for (; i < n; i++) {
                out[off + i] = weight[i] * (x[off + i] * inv);
            }
        }
    }

    /** SwiGLU: {@code gate = silu(gate) * up}, in place. */
    public static void siluMul(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = g / (1f + (float) Math.exp(-g)) * up[i];
        }
    }
}
