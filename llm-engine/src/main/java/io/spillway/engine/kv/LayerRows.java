package io.spillway.engine.kv;

/**
 * One layer's per-token rows of a forward step, handed to {@link KvCache#write}: queries (after
 * RoPE), keys (before RoPE), values, and the layer's input hidden states, whose massive activations
 * mark attention-sink tokens. Row {@code i} of each array starts at {@code i * width}.
 */
public record LayerRows(float[] queries, int queryWidth, float[] keys, float[] values, int kvWidth, float[] hidden,
                        int hiddenWidth) {
}
