package io.spillway.engine.kv;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fp32 buffers a {@link QuantizedKvCache} decodes a layer into during a forward step, lent from a
 * pool shared by the caches of one shape and given back when the step commits: an idle session holds
 * only its packed bits, and each step reuses the buffers of the last instead of allocating.
 */
final class DecodeBuffers {
    /** Idle buffers kept per shape (about a batch's worth); beyond that the smallest go to the collector. */
    private static final int KEPT = 16;
    private static final Map<List<Integer>, DecodeBuffers> POOLS = new ConcurrentHashMap<>();

    /**
     * Room for {@code tokens} tokens: per KV head, token-major rows of the prepared layer's keys (after
     * RoPE) and values; {@code row} holds one token's keys then values, all heads, while it is decoded.
     */
    record Lease(int tokens, float[][] keys, float[][] values, float[] row) {
    }

    private final int kvHeads;
    private final int headDim;
    private final List<Lease> idle = new ArrayList<>();

    private DecodeBuffers(int kvHeads, int headDim) {
        this.kvHeads = kvHeads;
        this.headDim = headDim;
    }

    static DecodeBuffers of(KvLayout layout) {
        return POOLS.computeIfAbsent(List.of(layout.kvHeads(), layout.headDim()), k -> new DecodeBuffers(k.get(0), k.get(1)));
    }

    /** The smallest idle lease holding {@code tokens}, or a new one of the next power of two (so it can serve longer ones later). */
    synchronized Lease take(int tokens) {
        Lease best = null;
        for (Lease l : idle) {
            if (l.tokens() >= tokens && (best == null || l.tokens() < best.tokens())) {
                best = l;
            }
        }
        if (best != null) {
            idle.remove(best);
            return best;
        }
        int room = Integer.highestOneBit(Math.max(tokens, 64) - 1) << 1;
        return new Lease(room, new float[kvHeads][room * headDim], new float[kvHeads][room * headDim], new float[2 * kvHeads * headDim]);
    }

    synchronized void give(Lease lease) {
        idle.add(lease);
        if (idle.size() > KEPT) {
            Lease smallest = idle.getFirst();
            for (Lease l : idle) {
                smallest = l.tokens() < smallest.tokens() ? l : smallest;
            }
            idle.remove(smallest);
        }
    }

    /** Idle leases kept now (for tests). */
    synchronized int idle() {
        return idle.size();
    }
}
