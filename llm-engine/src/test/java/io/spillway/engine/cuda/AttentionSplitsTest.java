package io.spillway.engine.cuda;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class AttentionSplitsTest {
    private static final int H200_SMS = 132;

    @Test
    void contextsRoundUpToWholeSpansSoADecodingBatchKeepsItsShape() {
        assertThat(AttentionSplits.span(1)).isEqualTo(256);
        assertThat(AttentionSplits.span(256)).isEqualTo(256);
        assertThat(AttentionSplits.span(257)).isEqualTo(512);
    }

    @Test
    void shortContextsSplitNoFinerThanTheShortestChunk() {
        assertThat(AttentionSplits.of(2, 1280, H200_SMS, true)).isEqualTo(40);
        assertThat(AttentionSplits.of(8, 256, H200_SMS, false)).isEqualTo(8);
        assertThat(AttentionSplits.of(1, 1 << 20, H200_SMS, false)).isEqualTo(AttentionSplits.MAX_SPLITS);
    }

    @Test
    void fp16AimsForEightBlocksPerMultiprocessor() {
        assertThat(AttentionSplits.of(8, 32768, H200_SMS, false)).isEqualTo(132);
        assertThat(AttentionSplits.of(72, 32768, H200_SMS, false)).isEqualTo(15);
        assertThat(AttentionSplits.of(5000, 32768, H200_SMS, false)).isEqualTo(1);
    }

    /** 264 resident 2-bit blocks on 132 SMs: the split fills whole waves, never a nearly empty last one. */
    @Test
    void twoBitTakesTheFewestSplitsThatFillTheirWaves() {
        for (long groups : new long[] {2, 8, 32, 128, 136, 266, 900, 2228}) {
            int s = AttentionSplits.of(groups, 32768, H200_SMS, true);
            long blocks = groups * s;
            long waves = (blocks + 263) / 264;
            assertThat((double) blocks / (waves * 264)).as("%d groups, %d splits", groups, s).isGreaterThanOrEqualTo(0.9);
            if (s > 1) {
                long fewer = groups * (s - 1);
                assertThat((double) fewer / ((fewer + 263) / 264 * 264)).as("%d groups, %d splits", groups, s - 1).isLessThan(0.9);
            }
        }
        assertThat(AttentionSplits.of(136, 32768, H200_SMS, true)).isEqualTo(7);
    }
}
