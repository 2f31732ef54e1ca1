package io.spillway.engine.kv;

/** The shape every cache of one model shares. */
public record KvLayout(int layers, int heads, int kvHeads, int headDim) {

    public int kvDim() {
        return kvHeads * headDim;
    }

    public int groupSize() {
        return heads / kvHeads;
    }
}
