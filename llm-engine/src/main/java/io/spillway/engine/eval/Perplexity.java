package io.spillway.engine.eval;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.LlamaModel;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Perplexity over a token stream in fixed windows, each with a fresh cache: the protocol of the
 * reference numbers (windows start every {@code window} tokens and hold {@code window + 1}, so every
 * token after the first is predicted exactly once).
 */
public final class Perplexity {

    /** Progress after each batch of windows. */
    public interface Listener {
        void windowsDone(int done, int total, double nllSum, long predicted);
    }

    public record Result(double perplexity, long predictedTokens, double nllSum) {
    }

    private final LlamaModel model;
    private final Supplier<KvCache> caches;
    private final int window;
    private final int batch;

    /**
     * @param caches makes the cache for each window: the KV method under test
     * @param batch  windows run through one forward pass together
     */
    public Perplexity(LlamaModel model, Supplier<KvCache> caches, int window, int batch) {
        if (window < 1 || batch < 1) {
            throw new IllegalArgumentException("window and batch must be positive");
        }
        this.model = model;
        this.caches = caches;
        this.window = window;
        this.batch = batch;
    }

    public Result evaluate(int[] stream, Listener listener) {
        List<int[]> windows = new ArrayList<>();
        for (int start = 0; start + 1 < stream.length; start += window) {
            int end = Math.min(stream.length, start + window + 1);
            windows.add(java.util.Arrays.copyOfRange(stream, start, end));
        }
        double nll = 0;
        long predicted = 0;
        for (int i = 0; i < windows.size(); i += batch) {
            List<int[]> group = windows.subList(i, Math.min(windows.size(), i + batch));
            List<KvCache> open = new ArrayList<>();
            try {
                List<LlamaModel.Step> steps = new ArrayList<>();
                for (int[] w : group) {
                    KvCache cache = caches.get();
                    open.add(cache);
                    steps.add(new LlamaModel.Step(cache, java.util.Arrays.copyOf(w, w.length - 1), true));
                }
                float[][] logits = model.forward(steps);
                for (int g = 0; g < group.size(); g++) {
                    int[] w = group.get(g);
                    for (int t = 0; t + 1 < w.length; t++) {
                        nll += negativeLogLikelihood(logits[g], t, model.config().vocabSize(), w[t + 1]);
                        predicted++;
                    }
                }
            } finally {
                open.forEach(KvCache::close);
            }
            listener.windowsDone(Math.min(windows.size(), i + batch), windows.size(), nll, predicted);
        }
        return new Result(Math.exp(nll / predicted), predicted, nll);
    }

    /** {@code -log softmax(row)[target]}, in double so 8K-way sums lose nothing. */
    static double negativeLogLikelihood(float[] logits, int row, int vocab, int target) {
        int off = row * vocab;
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[off + i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[off + i] - max);
        }
        return Math.log(sum) + max - logits[off + target];
    }
}
