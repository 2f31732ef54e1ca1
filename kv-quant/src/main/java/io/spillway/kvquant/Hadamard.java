package io.spillway.kvquant;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The normalized fast Walsh-Hadamard transform: {@code x <- H x / sqrt(n)} in place, O(n log n).
 * Normalized, H is orthogonal and symmetric, so the transform is its own inverse; it spreads an
 * outlier channel's energy evenly over all n channels, which is what makes 2-bit groups workable.
 */
public final class Hadamard {
    /** Largest size supported: a group of 32 heads of 128. */
    public static final int MAX_SIZE = 4096;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private Hadamard() {
    }

    public static boolean supports(int n) {
        return n >= 1 && n <= MAX_SIZE && Integer.bitCount(n) == 1;
    }

    public static void transform(float[] x, int off, int n) {
        if (!supports(n)) {
            throw new IllegalArgumentException("Walsh-Hadamard size must be a power of two up to " + MAX_SIZE + ", got " + n);
        }
        if (off < 0 || off + n > x.length) {
            throw new IndexOutOfBoundsException("transform of " + n + " at " + off + " exceeds array of " + x.length);
        }
        int lanes = F.length();
        for (int h = 1; h < n; h <<= 1) {
            if (h >= lanes) {
                for (int i = off; i < off + n; i += h << 1) {
                    for (int j = i; j < i + h; j += lanes) {
                        FloatVector a = FloatVector.fromArray(F, x, j);
                        FloatVector b = FloatVector.fromArray(F, x, j + h);
                        a.add(b).intoArray(x, j);
                        a.sub(b).intoArray(x, j + h);
                    }
                }
            } else {
                for (int i = off; i < off + n; i += h << 1) {
                    for (int j = i; j < i + h; j++) {
                        float a = x[j];
                        float b = x[j + h];
                        x[j] = a + b;
                        x[j + h] = a - b;
                    }
                }
            }
        }
        float norm = (float) (1.0 / Math.sqrt(n));
        int i = off;
        for (int bound = off + F.loopBound(n); i < bound; i += lanes) {
            FloatVector.fromArray(F, x, i).mul(norm).intoArray(x, i);
        }
        for (; i < off + n; i++) {
            x[i] *= norm;
        }
    }
}
