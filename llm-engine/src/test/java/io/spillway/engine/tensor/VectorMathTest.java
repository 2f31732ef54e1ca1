package io.spillway.engine.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class VectorMathTest {
    /** The halving tree written out in scalars: the one order every compilation tier must follow. */
    private static float tree(float[] lanes) {
        float[] s = lanes.clone();
        for (int w = s.length / 2; w >= 1; w /= 2) {
            float[] next = new float[s.length];
            for (int i = 0; i < s.length; i++) {
                next[i] = s[i] + s[(i + w) % s.length];
            }
            s = next;
        }
        return s[0];
    }

    @Test
    void laneSumsFollowOneFixedOrderBitForBit() {
        SplittableRandom r = new SplittableRandom(3);
        int n = VectorMath.F.length();
        // Repeated enough for the JIT to compile sum() midway: the result may not change when it does.
        for (int round = 0; round < 200_000; round++) {
            float[] lanes = new float[n];
            for (int i = 0; i < n; i++) {
                lanes[i] = (float) (r.nextDouble(-1, 1) * Math.pow(10, r.nextInt(-3, 4)));
            }
            assertThat(Float.floatToRawIntBits(VectorMath.sum(FloatVector.fromArray(VectorMath.F, lanes, 0))))
                    .isEqualTo(Float.floatToRawIntBits(tree(lanes)));
        }
    }

    @Test
    void dotMatchesItsFixedOrderOnAnyLength() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 3 * VectorMath.F.length() + 5;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
            b[i] = (float) r.nextGaussian();
        }
        float[] lanes = new float[VectorMath.F.length()];
        int body = n / lanes.length * lanes.length;
        for (int i = 0; i < body; i++) {
            lanes[i % lanes.length] = Math.fma(a[i], b[i], lanes[i % lanes.length]);
        }
        float expected = tree(lanes);
        for (int i = body; i < n; i++) {
            expected += a[i] * b[i];
        }
        assertThat(VectorMath.dot(a, 0, b, 0, n)).isEqualTo(expected);
    }
}
