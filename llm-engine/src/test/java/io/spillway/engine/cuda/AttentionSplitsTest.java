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
        assertThat(AttentionSplits.twoBit(2, 1280, 2 * H200_SMS)).isEqualTo(40);
        assertThat(AttentionSplits.fp16(8, 256, H200_SMS)).isEqualTo(8);
        assertThat(AttentionSplits.fp16(1, 1 << 20, H200_SMS)).isEqualTo(AttentionSplits.MAX_SPLITS);
    }

    @Test
    void fp16AimsForEightBlocksPerMultiprocessor() {
        assertThat(AttentionSplits.fp16(8, 32768, H200_SMS)).isEqualTo(132);
        assertThat(AttentionSplits.fp16(72, 32768, H200_SMS)).isEqualTo(15);
        assertThat(AttentionSplits.fp16(5000, 32768, H200_SMS)).isEqualTo(1);
    }

    /** 264 resident 2-bit blocks on 132 SMs: the split fills whole waves, never a nearly empty last one. */
    @Test
    void twoBitTakesTheFewestSplitsThatFillTheirWaves() {
        for (long groups : new long[] {2, 8, 32, 128, 136, 266, 900, 2228}) {
            int s = AttentionSplits.twoBit(groups, 32768, 2 * H200_SMS);
            long blocks = groups * s;
            long waves = (blocks + 263) / 264;
            assertThat((double) blocks / (waves * 264)).as("%d groups, %d splits", groups, s).isGreaterThanOrEqualTo(0.9);
            if (s > 1) {
                long fewer = groups * (s - 1);
                assertThat((double) fewer / ((fewer + 263) / 264 * 264)).as("%d groups, %d splits", groups, s - 1).isLessThan(0.9);
            }
        }
        assertThat(AttentionSplits.twoBit(136, 32768, 2 * H200_SMS)).isEqualTo(7);
    }

    /** Per-head groups' kernel fits 4 blocks an SM: its waves are twice as wide, and the splits follow. */
    @Test
    void twoBitWavesAreWhatTheDeviceHoldsOfTheKernel() {
        assertThat(AttentionSplits.twoBit(544, 32768, 2 * H200_SMS)).isEqualTo(4);
        assertThat(AttentionSplits.twoBit(544, 32768, 4 * H200_SMS)).isEqualTo(7);
    }
}
