package io.spillway.kvquant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class HadamardTest {

    /** Sylvester's construction: H[i][j] = (-1)^popcount(i & j), normalized. */
    private static double dense(int n, int i, int j) {
        return (Integer.bitCount(i & j) % 2 == 0 ? 1 : -1) / Math.sqrt(n);
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * (i % 17 == 0 ? 20 : 1));
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512})
    void matchesTheDenseHadamardMatrix(int n) {
        float[] x = random(n, n);
        float[] y = x.clone();
        Hadamard.transform(y, 0, n);
        for (int i = 0; i < n; i++) {
            double expected = 0;
            for (int j = 0; j < n; j++) {
                expected += dense(n, i, j) * x[j];
            }
            assertThat((double) y[i]).isCloseTo(expected, within(1e-4 * Math.sqrt(n) * 20));
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 8, 64, 128, 1024, 4096})
    void isOrthonormalAndSelfInverse(int n) {
        float[] x = random(n, 31 + n);
        float[] y = x.clone();
        Hadamard.transform(y, 0, n);
        double nx = 0;
        double ny = 0;
        for (int i = 0; i < n; i++) {
            nx += (double) x[i] * x[i];
            ny += (double) y[i] * y[i];
        }
        assertThat(ny).isCloseTo(nx, within(1e-4 * nx));
        Hadamard.transform(y, 0, n);
        for (int i = 0; i < n; i++) {
            assertThat(y[i]).isCloseTo(x[i], within(1e-4f * Math.max(1, Math.abs(x[i]))));
        }
    }

    @Test
    void transformsInPlaceAtAnOffsetOnly() {
        float[] x = random(300, 5);
        float[] before = x.clone();
        Hadamard.transform(x, 10, 256);
        assertThat(java.util.Arrays.copyOfRange(x, 0, 10)).containsExactly(java.util.Arrays.copyOfRange(before, 0, 10));
        assertThat(java.util.Arrays.copyOfRange(x, 266, 300)).containsExactly(java.util.Arrays.copyOfRange(before, 266, 300));
    }

    @Test
    void spreadsAnOutlierChannelEvenly() {
        float[] x = new float[128];
        x[3] = 100;
        Hadamard.transform(x, 0, 128);
        for (float v : x) {
            assertThat(Math.abs(v)).isCloseTo(100 / (float) Math.sqrt(128), within(1e-4f));
        }
    }

    @Test
    void refusesSizesThatAreNotPowersOfTwoOrTooLarge() {
        assertThatThrownBy(() -> Hadamard.transform(new float[96], 0, 96)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("power of two");
        assertThatThrownBy(() -> Hadamard.transform(new float[8192], 0, 8192)).hasMessageContaining("4096");
        assertThatThrownBy(() -> Hadamard.transform(new float[64], 32, 64)).isInstanceOf(IndexOutOfBoundsException.class);
    }
}
