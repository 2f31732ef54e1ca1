package io.spillway.engine.kv;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SinkTrackerTest {

    @Test
    void tokensOwningTheLargestActivationsAreSinks() {
        SinkTracker s = new SinkTracker(3);
        s.offer(0, new float[] {50, 1, 1, -60}, 0, 4);
        s.offer(1, new float[] {1, 2, 1, 1}, 0, 4);
        s.offer(2, new float[] {1, 1, -70, 1}, 0, 4);
        assertThat(s.isSink(0)).isTrue();
        assertThat(s.isSink(2)).isTrue();
        assertThat(s.isSink(1)).isFalse();
        s.offer(3, new float[] {80, 90, 100, 1}, 0, 4);
        assertThat(s.isSink(3)).isTrue();
        assertThat(s.isSink(0)).isFalse();
        assertThat(s.isSink(2)).isFalse();
        s.dropFrom(3);
        assertThat(s.isSink(3)).isFalse();
    }

    @Test
    void zeroActivationsMeansNoSinks() {
        SinkTracker s = new SinkTracker(0);
        s.offer(0, new float[] {1000}, 0, 1);
        assertThat(s.isSink(0)).isFalse();
    }
}
