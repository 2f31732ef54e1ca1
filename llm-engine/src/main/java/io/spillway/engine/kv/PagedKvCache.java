package io.spillway.engine.kv;

import io.spillway.engine.tensor.VectorMath;

/**
 * A cache kept in fixed-size blocks of tokens per layer, so a sequence grows without copying and a
 * block is the unit that is quantized, spilled and restored. Attention is written once here over
 * blocks decoded to fp32 (post-RoPE keys, values) by the storage format of the subclass.
 */
public abstract class PagedKvCache implements KvCache {
    protected final KvLayout layout;
    protected final int blockSize;
    private final float scale;
    private int length;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    protected PagedKvCache(KvLayout layout, int blockSize) {
        if (blockSize <= 0) {
            throw new IllegalArgumentException("block size must be positive, got " + blockSize);
        }
        this.layout = layout;
        this.blockSize = blockSize;
        this.scale = (float) (1.0 / Math.sqrt(layout.headDim()));
    }

    /** Hook on one head's finished attention output, for caches that keep values in a rotated basis. */
    protected void finishOutput(float[] out, int outOff) {
    }

    /**
     * Where one KV head's rows of a block lie: {@code headDim} floats per token, token after token,
     * from {@code offset} of {@code array}, which is the cache's own storage where it holds fp32 and
     * {@link #scratch} where the block had to be decoded first.
     */
    protected static final class BlockView {
        public float[] array;
        public int offset;
        public final float[] scratch;

        BlockView(int floats) {
            scratch = new float[floats];
        }
    }

    /** Points {@code view} at the post-RoPE keys of the first {@code tokens} tokens of {@code block} for one KV head. */
    protected abstract void keys(int layer, int block, int kvHead, int tokens, BlockView view);

    /** Points {@code view} at the values of the first {@code tokens} tokens of {@code block} for one KV head. */
    protected abstract void values(int layer, int block, int kvHead, int tokens, BlockView view);

    public KvLayout layout() {
        return layout;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void commit(int count) {
        length += count;
    }

    /** Sets the length of a cache whose content was restored rather than written. */
    protected void restoredLength(int tokens) {
        length = tokens;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " tokens to " + newLength);
        }
        length = newLength;
        dropAfter(newLength);
    }

    /** Frees storage past {@code newLength} tokens. */
    protected abstract void dropAfter(int newLength);

    @Override
    public void attend(int layer, int head, float[] query, int queryOff, int position, float[] out, int outOff) {
        int d = layout.headDim();
        int kvHead = head / layout.groupSize();
        int n = position + 1;
        Scratch s = SCRATCH.get();
        float[] scores = s.scores(n);
        BlockView view = s.view(blockSize * d);
        float max = Float.NEGATIVE_INFINITY;
        for (int b = 0, start = 0; start < n; b++, start += blockSize) {
            int tokens = Math.min(blockSize, n - start);
            keys(layer, b, kvHead, tokens, view);
            for (int t = 0; t < tokens; t++) {
                float sc = VectorMath.dot(query, queryOff, view.array, view.offset + t * d, d) * scale;
                scores[start + t] = sc;
                max = Math.max(max, sc);
            }
        }
        float sum = 0;
        for (int j = 0; j < n; j++) {
            float e = (float) Math.exp(scores[j] - max);
            scores[j] = e;
            sum += e;
        }
        java.util.Arrays.fill(out, outOff, outOff + d, 0f);
        for (int b = 0, start = 0; start < n; b++, start += blockSize) {
            int tokens = Math.min(blockSize, n - start);
            values(layer, b, kvHead, tokens, view);
            for (int t = 0; t < tokens; t++) {
                VectorMath.axpy(scores[start + t], view.array, view.offset + t * d, out, outOff, d);
            }
        }
        VectorMath.scale(out, outOff, d, 1f / sum);
        finishOutput(out, outOff);
    }

    private static final class Scratch {
        private float[] scores = new float[1024];
        private BlockView view = new BlockView(0);

        float[] scores(int n) {
            if (scores.length < n) {
                scores = new float[Math.max(n, scores.length * 2)];
            }
            return scores;
        }

        BlockView view(int floats) {
            if (view.scratch.length < floats) {
                view = new BlockView(floats);
            }
            return view;
        }
    }
}
