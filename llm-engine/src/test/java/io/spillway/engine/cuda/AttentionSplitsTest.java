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

    /** 264 resident 2-bit blocks on 132 SMs: a step lasts its waves of blocks, each a chunk plus a block's fixed work. */
    @Test
    void twoBitTakesTheSplitWhoseWavesOfChunksAreShortest() {
        for (long groups : new long[] {2, 8, 32, 128, 136, 266, 900, 2228}) {
            int s = AttentionSplits.twoBit(groups, 32768, 2 * H200_SMS);
            for (int other = 1; other <= AttentionSplits.MAX_SPLITS; other++) {
                assertThat(waveTime(groups, s, 264)).as("%d groups: %d splits against %d", groups, s, other)
                        .isLessThanOrEqualTo(waveTime(groups, other, 264));
            }
        }
        assertThat(AttentionSplits.twoBit(2, 32768, 2 * H200_SMS)).as("one block a slot, one wave").isEqualTo(132);
        assertThat(AttentionSplits.twoBit(128, 32768, 2 * H200_SMS)).as("256 of 264 slots in one wave").isEqualTo(2);
        assertThat(AttentionSplits.twoBit(136, 32768, 2 * H200_SMS)).isEqualTo(23);
        assertThat(AttentionSplits.twoBit(264, 32768, 2 * H200_SMS)).as("a full wave unsplit").isEqualTo(1);
    }

    /** Per-head groups' kernel fits 4 blocks an SM: its waves are twice as wide, and the splits follow. */
    @Test
    void twoBitWavesAreWhatTheDeviceHoldsOfTheKernel() {
        assertThat(AttentionSplits.twoBit(264, 32768, 2 * H200_SMS)).isEqualTo(1);
        assertThat(AttentionSplits.twoBit(264, 32768, 4 * H200_SMS)).isEqualTo(2);
    }

    private static long waveTime(long groups, int splits, long wave) {
        return (groups * splits + wave - 1) / wave * ((32768 + splits - 1) / splits + AttentionSplits.BLOCK_POSITIONS);
    }
}
