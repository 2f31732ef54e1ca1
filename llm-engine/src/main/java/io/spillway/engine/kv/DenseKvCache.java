package io.spillway.engine.kv;

import io.spillway.engine.runtime.Rope;

import java.util.ArrayList;
import java.util.List;

/**
 * The unquantized cache: keys stored after RoPE, in fp32 (bit-exact against a reference
 * implementation) or fp16 (what a serving engine keeps, half the bytes).
 */
public final class DenseKvCache extends PagedKvCache {
    public static final int DEFAULT_BLOCK = 16;

    public enum Precision {
        F32(4), F16(2);

        final int bytes;

        Precision(int bytes) {
            this.bytes = bytes;
        }
    }

    private final Rope rope;
    private final Precision precision;
    private final List<List<Object>> keys = new ArrayList<>();
    private final List<List<Object>> values = new ArrayList<>();

    public DenseKvCache(KvLayout layout, Rope rope, Precision precision, int blockSize) {
        super(layout, blockSize);
        this.rope = rope;
        this.precision = precision;
        for (int l = 0; l < layout.layers(); l++) {
            keys.add(new ArrayList<>());
            values.add(new ArrayList<>());
        }
    }

    @Override
    public void write(int layer, LayerRows rows, int first, int count) {
        int kvDim = layout.kvDim();
        float[] rotated = new float[kvDim];
        for (int i = 0; i < count; i++) {
            int pos = length() + i;
            System.arraycopy(rows.keys(), (first + i) * kvDim, rotated, 0, kvDim);
            rope.rotate(rotated, 0, layout.kvHeads(), pos);
            int block = pos / blockSize;
            int at = (pos % blockSize) * kvDim;
            put(blockFor(keys.get(layer), block), at, rotated, 0, kvDim);
            put(blockFor(values.get(layer), block), at, rows.values(), (first + i) * kvDim, kvDim);
        }
    }

    private Object blockFor(List<Object> blocks, int block) {
        while (blocks.size() <= block) {
            int n = blockSize * layout.kvDim();
            blocks.add(precision == Precision.F32 ? new float[n] : new short[n]);
        }
        return blocks.get(block);
    }

    private void put(Object block, int at, float[] src, int off, int n) {
        if (block instanceof float[] f) {
            System.arraycopy(src, off, f, at, n);
        } else {
            short[] h = (short[]) block;
            for (int i = 0; i < n; i++) {
                h[at + i] = Float.floatToFloat16(src[off + i]);
            }
        }
    }

    @Override
    protected void loadKeys(int layer, int block, int kvHead, int tokens, float[] dst) {
        load(keys.get(layer).get(block), kvHead, tokens, dst);
    }

    @Override
    protected void loadValues(int layer, int block, int kvHead, int tokens, float[] dst) {
        load(values.get(layer).get(block), kvHead, tokens, dst);
    }

    private void load(Object block, int kvHead, int tokens, float[] dst) {
        int d = layout.headDim();
        int kvDim = layout.kvDim();
        for (int t = 0; t < tokens; t++) {
            int src = t * kvDim + kvHead * d;
            if (block instanceof float[] f) {
                System.arraycopy(f, src, dst, t * d, d);
            } else {
                short[] h = (short[]) block;
                for (int i = 0; i < d; i++) {
                    dst[t * d + i] = Float.float16ToFloat(h[src + i]);
                }
            }
        }
    }

    @Override
    protected void dropAfter(int newLength) {
        int keep = (newLength + blockSize - 1) / blockSize;
        for (int l = 0; l < layout.layers(); l++) {
            trim(keys.get(l), keep);
            trim(values.get(l), keep);
        }
    }

    private static void trim(List<Object> blocks, int keep) {
        while (blocks.size() > keep) {
            blocks.removeLast();
        }
    }

    @Override
    public long bytes() {
        long blocks = 0;
        for (int l = 0; l < layout.layers(); l++) {
            blocks += keys.get(l).size() + values.get(l).size();
        }
        return blocks * blockSize * layout.kvDim() * precision.bytes;
    }

    @Override
    public void close() {
        dropAfter(0);
    }
}
