package io.spillway.kvquant;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ChannelRotationTest {

    @Test
    void inverseUndoesForwardWithReorder() {
        int dim = 512;
        int[] order = new int[dim];
        for (int i = 0; i < dim; i++) {
            order[i] = (i * 37) % dim;
        }
        ChannelRotation r = new ChannelRotation(dim, 256, order);
        SplittableRandom rnd = new SplittableRandom(1);
        float[] x = new float[dim + 8];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        float[] y = x.clone();
        r.forward(y, 8);
        assertThat(y[8]).isNotEqualTo(x[8]);
        r.inverse(y, 8);
        for (int i = 0; i < x.length; i++) {
            assertThat(y[i]).isCloseTo(x[i], within(1e-5f));
        }
    }

    @Test
    void gathersChannelsInTheGivenOrder() {
        ChannelRotation r = new ChannelRotation(4, 1, new int[] {2, 0, 3, 1});
        float[] x = {10, 11, 12, 13};
        r.forward(x, 0);
        assertThat(x).containsExactly(12, 10, 13, 11);
    }

    @Test
    void refusesBadOrdersAndSizes() {
        assertThatThrownBy(() -> new ChannelRotation(4, 1, new int[] {0, 0, 1, 2})).hasMessageContaining("permutation");
        assertThatThrownBy(() -> new ChannelRotation(4, 1, new int[] {0, 1})).hasMessageContaining("entries");
        assertThatThrownBy(() -> new ChannelRotation(384, 256, null)).hasMessageContaining("power of two dividing");
    }
}
