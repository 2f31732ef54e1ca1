package io.spillway.engine.kv;

import io.spillway.engine.runtime.Rope;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The unquantized cache: keys stored after RoPE, in fp32 (bit-exact against a reference
 * implementation, read in place by attention) or fp16 (what a serving engine keeps, half the bytes).
 * Blocks are kept per KV head so a head's rows are contiguous.
 */
public final class DenseKvCache extends PagedKvCache implements SpillableKvCache {
    public static final int DEFAULT_BLOCK = 16;

    public enum Precision {
        F32(4, "fp32"), F16(2, "fp16");

        final int bytes;
        final String method;

        Precision(int bytes, String method) {
            this.bytes = bytes;
            this.method = method;
        }
    }

    private final Rope rope;
    private final Precision precision;
    /** [layer][kvHead] -> blocks of blockSize x headDim, float[] or short[]. */
    private final List<List<List<Object>>> keys = new ArrayList<>();
    private final List<List<List<Object>>> values = new ArrayList<>();

    public DenseKvCache(KvLayout layout, Rope rope, Precision precision, int blockSize) {
        super(layout, blockSize);
        this.rope = rope;
        this.precision = precision;
        for (int l = 0; l < layout.layers(); l++) {
            keys.add(perHead());
            values.add(perHead());
        }
    }

    private List<List<Object>> perHead() {
        List<List<Object>> heads = new ArrayList<>();
        for (int h = 0; h < layout.kvHeads(); h++) {
            heads.add(new ArrayList<>());
        }
        return heads;
    }

    @Override
    public void write(int layer, LayerRows rows, int first, int count) {
        int kvDim = layout.kvDim();
        int d = layout.headDim();
        float[] rotated = new float[kvDim];
        for (int i = 0; i < count; i++) {
            int pos = length() + i;
            System.arraycopy(rows.keys(), (first + i) * kvDim, rotated, 0, kvDim);
            rope.rotate(rotated, 0, layout.kvHeads(), pos);
            int block = pos / blockSize;
            int at = (pos % blockSize) * d;
            for (int h = 0; h < layout.kvHeads(); h++) {
                put(blockFor(keys.get(layer).get(h), block), at, rotated, h * d, d);
                put(blockFor(values.get(layer).get(h), block), at, rows.values(), (first + i) * kvDim + h * d, d);
            }
        }
    }

    private Object blockFor(List<Object> blocks, int block) {
        while (blocks.size() <= block) {
            int n = blockSize * layout.headDim();
            blocks.add(precision == Precision.F32 ? new float[n] : new short[n]);
        }
        return blocks.get(block);
    }

    private static void put(Object block, int at, float[] src, int off, int n) {
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
    protected void keys(int layer, int block, int kvHead, int tokens, BlockView view) {
        view(keys.get(layer).get(kvHead).get(block), tokens, view);
    }

    @Override
    protected void values(int layer, int block, int kvHead, int tokens, BlockView view) {
        view(values.get(layer).get(kvHead).get(block), tokens, view);
    }

    private void view(Object block, int tokens, BlockView view) {
        view.offset = 0;
        if (block instanceof float[] f) {
            view.array = f;
        } else {
            short[] h = (short[]) block;
            for (int i = 0, n = tokens * layout.headDim(); i < n; i++) {
                view.scratch[i] = Float.float16ToFloat(h[i]);
            }
            view.array = view.scratch;
        }
    }

    @Override
    protected void dropAfter(int newLength) {
        int keep = (newLength + blockSize - 1) / blockSize;
        for (int l = 0; l < layout.layers(); l++) {
            for (int h = 0; h < layout.kvHeads(); h++) {
                trim(keys.get(l).get(h), keep);
                trim(values.get(l).get(h), keep);
            }
        }
    }

    private static void trim(List<Object> blocks, int keep) {
        while (blocks.size() > keep) {
            blocks.removeLast();
        }
    }

    @Override
    public SpillFormat spillFormat() {
        return spillFormat(precision, layout, blockSize);
    }

    /** What a dense cache's spill holds: each KV head's keys (post-RoPE), then its values, token after token. */
    public static SpillFormat spillFormat(Precision precision, KvLayout layout, int blockSize) {
        return new SpillFormat(precision.method, precision.bytes * 8, precision.bytes * 8, 0, "", layout, blockSize);
    }

    /** Each KV head's keys (post-RoPE), then its values, token after token, as stored. */
    @Override
    public void writeLayer(int layer, DataOutput out) throws IOException {
        for (int h = 0; h < layout.kvHeads(); h++) {
            writeRows(keys.get(layer).get(h), out);
            writeRows(values.get(layer).get(h), out);
        }
    }

    private void writeRows(List<Object> blocks, DataOutput out) throws IOException {
        int d = layout.headDim();
        for (int pos = 0; pos < length(); pos++) {
            Object block = blocks.get(pos / blockSize);
            int at = (pos % blockSize) * d;
            for (int i = 0; i < d; i++) {
                if (block instanceof float[] f) {
                    out.writeFloat(f[at + i]);
                } else {
                    out.writeShort(((short[]) block)[at + i]);
                }
            }
        }
    }

    @Override
    public void readLayer(int layer, DataInput in, int tokens) throws IOException {
        for (int h = 0; h < layout.kvHeads(); h++) {
            readRows(keys.get(layer).get(h), in, tokens);
            readRows(values.get(layer).get(h), in, tokens);
        }
    }

    private void readRows(List<Object> blocks, DataInput in, int tokens) throws IOException {
        int d = layout.headDim();
        for (int pos = 0; pos < tokens; pos++) {
            Object block = blockFor(blocks, pos / blockSize);
            int at = (pos % blockSize) * d;
            for (int i = 0; i < d; i++) {
                if (block instanceof float[] f) {
                    f[at + i] = in.readFloat();
                } else {
                    ((short[]) block)[at + i] = in.readShort();
                }
            }
        }
    }

    @Override
    public void restored(int tokens) {
        restoredLength(tokens);
    }

    @Override
    public long bytes() {
        long blocks = 0;
        for (int l = 0; l < layout.layers(); l++) {
            for (int h = 0; h < layout.kvHeads(); h++) {
                blocks += keys.get(l).get(h).size() + values.get(l).get(h).size();
            }
        }
        return blocks * blockSize * layout.headDim() * precision.bytes;
    }

    @Override
    public void close() {
        dropAfter(0);
    }
}
