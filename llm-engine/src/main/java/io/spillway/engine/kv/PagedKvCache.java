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

    /** Start position of block {@code b} of {@code layer}; blocks are contiguous and start at 0. */
    protected int blockStart(int layer, int b) {
        return b * blockSize;
    }

    /** Hook on one head's finished attention output, for caches that keep values in a rotated basis. */
    protected void finishOutput(float[] out, int outOff) {
    }

    /** Decodes the post-RoPE keys of {@code tokens} tokens of {@code block} for one KV head into {@code dst}, token-major. */
    protected abstract void loadKeys(int layer, int block, int kvHead, int tokens, float[] dst);

    /** Decodes the values of {@code tokens} tokens of {@code block} for one KV head into {@code dst}, token-major. */
    protected abstract void loadValues(int layer, int block, int kvHead, int tokens, float[] dst);

    @Override
    public int length() {
        return length;
    }

    @Override
    public void commit(int count) {
        length += count;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate a cache of " + length + " tokens to " + newLength);
        }
        length = newLength;
        dropAfter(newLength);
    }

    /** The most tokens any block holds. */
    protected int maxBlockTokens() {
        return blockSize;
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
        float[] block = s.block(maxBlockTokens() * d);
        float max = Float.NEGATIVE_INFINITY;
        for (int b = 0, start = 0; start < n; b++, start = blockStart(layer, b)) {
            int tokens = Math.min(blockStart(layer, b + 1), n) - start;
            loadKeys(layer, b, kvHead, tokens, block);
            for (int t = 0; t < tokens; t++) {
                float sc = VectorMath.dot(query, queryOff, block, t * d, d) * scale;
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
        for (int b = 0, start = 0; start < n; b++, start = blockStart(layer, b)) {
            int tokens = Math.min(blockStart(layer, b + 1), n) - start;
            loadValues(layer, b, kvHead, tokens, block);
            for (int t = 0; t < tokens; t++) {
                VectorMath.axpy(scores[start + t], block, t * d, out, outOff, d);
            }
        }
        VectorMath.scale(out, outOff, d, 1f / sum);
        finishOutput(out, outOff);
    }

    private static final class Scratch {
        private float[] scores = new float[1024];
        private float[] block = new float[0];

        float[] scores(int n) {
            if (scores.length < n) {
                scores = new float[Math.max(n, scores.length * 2)];
            }
            return scores;
        }

        float[] block(int n) {
            if (block.length < n) {
                block = new float[n];
            }
            return block;
        }
    }
}
