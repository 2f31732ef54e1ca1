package io.spillway.engine.cuda;

/**
 * How many chunks a decode step's attention splits each context into, so that (token, KV group, chunk)
 * blocks keep every multiprocessor busy even at batch 1 (flash-decoding). Contexts are rounded up to
 * {@link #SPAN} positions, so a decoding batch keeps one split (and one captured graph) for that many
 * steps. Measured on the H200 (docs/BENCHMARKS.md): the fp16 kernel waits on memory and gains from several
 * waves of blocks. The 2-bit kernel is bound by its instructions, so a step takes as long as its waves of blocks,
 * each as long as a chunk: it takes the split whose waves times chunk is least, a block's fixed work (its
 * queries, its partial result, its share of the merge) counted as {@link #BLOCK_POSITIONS} positions more.
 * A wave is what the device holds of that kernel at once, as the driver's occupancy calculator gives it for
 * the compiled method (2 blocks an SM for the default's wide rotation groups, 4 for per-head ones).
 */
final class AttentionSplits {
    static final int SPAN = 256;
    /** Positions of the shortest chunk: shorter ones cost more to merge than they save. */
    static final int MIN_CHUNK = 32;
    /** common.cuh's MAX_SPLITS: the chunk weights it merges from shared memory. */
    static final int MAX_SPLITS = 1024;
    private static final int FP16_BLOCKS_PER_SM = 8;
    /** A 2-bit block's fixed work, as positions of its chunk: one page's worth. */
    static final int BLOCK_POSITIONS = 64;

    private AttentionSplits() {
    }

    /** The context span (multiple of {@link #SPAN}) that holds {@code maxLength} positions. */
    static int span(int maxLength) {
        return (maxLength + SPAN - 1) / SPAN * SPAN;
    }

    /**
     * Splits for the fp16 kernel.
     *
     * @param groups          attention groups of the step (tokens x KV heads)
     * @param span            {@link #span} of the longest sequence
     * @param multiprocessors the device's SMs
     */
    static int fp16(long groups, int span, int multiprocessors) {
        long want = (FP16_BLOCKS_PER_SM * (long) multiprocessors + groups - 1) / groups;
        return (int) Math.max(1, Math.min(most(span), want));
    }

    /**
     * Splits for the 2-bit kernel.
     *
     * @param groups attention groups of the step (tokens x rotation groups)
     * @param span   {@link #span} of the longest sequence
     * @param wave   blocks of the kernel the device holds at once
     */
    static int twoBit(long groups, int span, long wave) {
        int best = 1;
        long bestCost = Long.MAX_VALUE;
        int most = most(span);
        for (int s = 1; s <= most; s++) {
            long cost = (groups * s + wave - 1) / wave * ((span + s - 1) / s + BLOCK_POSITIONS);
            if (cost < bestCost) {
                best = s;
                bestCost = cost;
            }
        }
        return best;
    }

    private static int most(int span) {
        return Math.max(1, Math.min(span / MIN_CHUNK, MAX_SPLITS));
    }
}
