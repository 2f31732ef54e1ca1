package io.spillway.engine.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The element-wise and reduction kernels of the forward pass, on the Vector API. */
public final class VectorMath {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private VectorMath() {
    }

    public static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int i = 0;
        FloatVector acc = FloatVector.zero(F);
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            acc = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
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
