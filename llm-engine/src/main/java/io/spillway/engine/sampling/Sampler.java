package io.spillway.engine.sampling;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Picks the next token of one sequence from the model's logits, with the semantics and order of HF
 * transformers' logits processors: repetition penalty, temperature, top-k, top-p, min-p, then a
 * draw from what is left. Greedy parameters take the argmax after the repetition penalty, the
 * lowest token id among ties.
 *
 * <p>Holds the sequence's random generator, seeded with {@link SamplingParams#seed()}, so equal
 * parameters and logits give equal tokens, and scratch buffers of about 8 bytes per vocabulary entry
 * (12 with a repetition penalty). Works in time linear in the vocabulary for the usual settings: no
 * full sort unless top-p must look at most of a very flat distribution. One instance per sequence;
 * not thread-safe.
 */
public final class Sampler {

    /** Below this many candidates top-p sorts them all at once. */
    private static final int SMALL = 1024;

    private final SamplingParams params;
    private final SplittableRandom random;
    private float[] penalized = new float[0];
    /** exp((logit - max logit) / temperature) by token id, valid for the current candidates. */
    private float[] weights = new float[0];
    private int[] candidates = new int[0];
    private long[] sortKeys = new long[0];
    private float[] heap = new float[0];

    public Sampler(SamplingParams params) {
        this.params = Objects.requireNonNull(params, "params");
        this.random = new SplittableRandom(params.seed());
    }

    /**
     * The next token.
     *
     * @param logits        the model's logits over the vocabulary for the next position; not modified
     * @param history       the sequence so far (prompt and generated tokens), for the repetition penalty
     * @param historyLength how many entries of {@code history} are valid
     * @throws IllegalArgumentException when the logits contain NaN, or, with a repetition penalty,
     *                                  the history holds ids outside the vocabulary
     */
    public int next(float[] logits, int[] history, int historyLength) {
        if (logits.length == 0) {
            throw new IllegalArgumentException("empty logits");
        }
        Objects.checkFromIndexSize(0, historyLength, history.length);
        float[] scores = penalize(logits, history, historyLength);
        int best = VocabMath.argmax(scores);
        if (params.isGreedy() || Float.isInfinite(scores[best])) {
            // All logits -inf, or some +inf: no distribution to draw from, the argmax is all there is.
            return best;
        }
        return sample(scores, scores[best]);
    }

    /**
     * The uniform number in [0, 1) the next draw takes from this sequence's generator, for a draw made
     * elsewhere (on the GPU); the generator moves on as {@link #next} would move it. Greedy: 0, untouched.
     */
    public double nextUniform() {
        return params.isGreedy() ? 0 : random.nextDouble();
    }

    private float[] penalize(float[] logits, int[] history, int historyLength) {
        if (!params.usesHistory() || historyLength == 0) {
            return logits;
        }
        if (penalized.length != logits.length) {
            penalized = new float[logits.length];
        }
        System.arraycopy(logits, 0, penalized, 0, logits.length);
        float penalty = (float) params.repetitionPenalty();
        for (int i = 0; i < historyLength; i++) {
            int token = history[i];
            if (token < 0 || token >= logits.length) {
                throw new IllegalArgumentException("history token " + token + " at " + i
                        + " is outside the vocabulary of " + logits.length);
            }
            // From the caller's logit, so a token that occurs many times is penalized once.
            float logit = logits[token];
            penalized[token] = logit > 0 ? logit / penalty : logit * penalty;
        }
        return penalized;
    }

    private int sample(float[] scores, float max) {
        ensureCapacity(scores.length);
        int n;
        if (params.topK() > 0 && params.topK() < scores.length) {
            n = topK(scores, params.topK());
            double invTemperature = 1 / params.temperature();
            for (int i = 0; i < n; i++) {
                int token = candidates[i];
                weights[token] = (float) Math.exp((scores[token] - max) * invTemperature);
            }
        } else {
            n = all(scores.length);
            VocabMath.expShifted(scores, max, (float) (1 / params.temperature()), weights);
        }
        if (params.topP() < 1) {
            n = topP(scores, n);
        }
        if (params.minP() > 0) {
            n = minP(n);
        }
        return draw(n);
    }

    private void ensureCapacity(int vocab) {
        if (weights.length != vocab) {
            weights = new float[vocab];
            candidates = new int[vocab];
        }
    }

    private int all(int vocab) {
        for (int i = 0; i < vocab; i++) {
            candidates[i] = i;
        }
        return vocab;
    }

    /**
     * Keeps the tokens whose score is at least the k-th largest, ties included as HF's
     * TopKLogitsWarper keeps them, found with a k-entry heap instead of a sort.
     */
    private int topK(float[] scores, int k) {
        if (heap.length < k) {
            heap = new float[k];
        }
        System.arraycopy(scores, 0, heap, 0, k);
        for (int i = k / 2 - 1; i >= 0; i--) {
            siftDown(heap, k, i);
        }
        for (int i = k; i < scores.length; i++) {
            if (scores[i] > heap[0]) {
                heap[0] = scores[i];
                siftDown(heap, k, 0);
            }
        }
        float kth = heap[0];
        int n = 0;
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] >= kth) {
                candidates[n++] = i;
            }
        }
        return n;
    }

    private static void siftDown(float[] heap, int size, int i) {
        float value = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= size) {
                break;
            }
            if (child + 1 < size && heap[child + 1] < heap[child]) {
                child++;
            }
            if (heap[child] >= value) {
                break;
            }
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = value;
    }

    /**
     * Keeps the most likely candidates while the probability of those before them is below top_p,
     * which is HF's TopPLogitsWarper: the smallest set whose probability reaches top_p, never empty.
     * Only a prefix of the candidates needs sorting: the tokens above a likelihood floor, lowered
     * step by step until they hold top_p of the probability.
     */
    private int topP(float[] scores, int n) {
        double target = params.topP() * mass(0, n);
        int above = n;
        if (n > SMALL) {
            above = 0;
            double massAbove = 0;
            // Floors 2^-4, 2^-8, 2^-16, ... until the float underflows to 0.
            for (float floor = 0x1p-4f; floor > 0 && massAbove < target; floor *= floor) {
                int from = above;
                above = moveToFront(from, n, floor);
                massAbove += mass(from, above);
            }
            if (massAbove < target) {
                above = n;
            }
        }
        sortByScore(scores, above);
        double before = 0;
        int keep = 0;
        while (keep < above && before < target) {
            before += weights[candidates[keep++]];
        }
        return keep;
    }

    /** Moves the candidates in [from, n) with at least {@code floor} weight to {@code from} on; returns their end. */
    private int moveToFront(int from, int n, float floor) {
        int front = from;
        for (int i = from; i < n; i++) {
            int token = candidates[i];
            if (weights[token] >= floor) {
                candidates[i] = candidates[front];
                candidates[front++] = token;
            }
        }
        return front;
    }

    /** Sorts the first {@code m} candidates by descending score, ascending id among ties. */
    private void sortByScore(float[] scores, int m) {
        if (sortKeys.length < m) {
            sortKeys = new long[Math.max(m, Math.min(2 * sortKeys.length, scores.length))];
        }
        for (int i = 0; i < m; i++) {
            int token = candidates[i];
            int bits = Float.floatToRawIntBits(scores[token]);
            int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
            sortKeys[i] = ((long) ~ordered << 32) | token;
        }
        Arrays.sort(sortKeys, 0, m);
        for (int i = 0; i < m; i++) {
            candidates[i] = (int) sortKeys[i];
        }
    }

    /** Drops candidates less likely than min_p times the most likely one, as HF's MinPLogitsWarper. */
    private int minP(int n) {
        float best = 0;
        for (int i = 0; i < n; i++) {
            best = Math.max(best, weights[candidates[i]]);
        }
        float floor = (float) (params.minP() * best);
        int kept = 0;
        for (int i = 0; i < n; i++) {
            int token = candidates[i];
            if (weights[token] >= floor) {
                candidates[kept++] = token;
            }
        }
        return kept;
    }

    private int draw(int n) {
        double u = random.nextDouble() * mass(0, n);
        double cumulative = 0;
        int last = candidates[0];
        for (int i = 0; i < n; i++) {
            int token = candidates[i];
            float w = weights[token];
            if (w > 0) {
                cumulative += w;
                last = token;
                if (u < cumulative) {
                    return token;
                }
            }
        }
        // Rounding can leave u just above the sum: the last token with any weight takes it.
        return last;
    }

    private double mass(int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += weights[candidates[i]];
        }
        return sum;
    }
}
