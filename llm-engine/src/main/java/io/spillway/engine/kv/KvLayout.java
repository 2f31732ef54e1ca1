package io.spillway.engine.kv;

import io.spillway.engine.model.ModelConfig;

/** The shape every cache of one model shares. */
public record KvLayout(int layers, int heads, int kvHeads, int headDim) {

    public static KvLayout of(ModelConfig c) {
        return new KvLayout(c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim());
    }

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int groupSize() {
        return heads / kvHeads;
    }
}
