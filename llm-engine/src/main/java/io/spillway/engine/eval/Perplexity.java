package io.spillway.engine.eval;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * Perplexity over a token stream in fixed windows, each with a fresh cache: the protocol of the
 * reference numbers (windows start every {@code window} tokens and hold {@code window + 1}, so every
 * token after the first is predicted exactly once). Windows are prefilled whole, or fed one token at
 * a time through the cache as generation would ({@code tokenByToken}).
 */
public final class Perplexity {

    /** Progress after each batch of windows. */
    public interface Listener {
        void windowsDone(int done, int total, double nllSum, long predicted);
    }

    /**
     * @param kvBytesPerToken the caches' stored bytes per cached token (all layers, keys and values):
     *                        at the end of each full window when prefilled, and averaged over every
     *                        step when fed token by token (the fp16 window fills and empties)
     */
    public record Result(double perplexity, long predictedTokens, double nllSum, double kvBytesPerToken) {
    }

    private final Decoder model;
    private final Supplier<KvCache> caches;
    private final int window;
    private final int batch;
    private final boolean tokenByToken;

    /**
     * @param caches makes the cache for each window: the KV method under test
     * @param batch  windows run through the forward pass together
     */
    public Perplexity(Decoder model, Supplier<KvCache> caches, int window, int batch, boolean tokenByToken) {
        if (window < 1 || batch < 1) {
            throw new IllegalArgumentException("window and batch must be positive");
        }
        this.model = model;
        this.caches = caches;
        this.window = window;
        this.batch = batch;
        this.tokenByToken = tokenByToken;
    }

    public Result evaluate(int[] stream, Listener listener) {
        List<int[]> windows = new ArrayList<>();
        for (int start = 0; start + 1 < stream.length; start += window) {
            windows.add(Arrays.copyOfRange(stream, start, Math.min(stream.length, start + window + 1)));
        }
        double nll = 0;
        long predicted = 0;
        long kvBytes = 0;
        long kvTokens = 0;
        for (int i = 0; i < windows.size(); i += batch) {
            List<int[]> group = windows.subList(i, Math.min(windows.size(), i + batch));
            List<KvCache> open = new ArrayList<>();
            try {
                for (int g = 0; g < group.size(); g++) {
                    open.add(caches.get());
                }
                long[] usage = new long[2];
                nll += tokenByToken ? decodeGroup(group, open, usage) : prefillGroup(group, open, usage);
                kvBytes += usage[0];
                kvTokens += usage[1];
                for (int[] w : group) {
                    predicted += w.length - 1;
                }
            } finally {
                open.forEach(KvCache::close);
            }
            listener.windowsDone(Math.min(windows.size(), i + batch), windows.size(), nll, predicted);
        }
        return new Result(Math.exp(nll / predicted), predicted, nll, kvTokens == 0 ? 0 : (double) kvBytes / kvTokens);
    }

    /** Adds the stored bytes and tokens of the full windows' caches to {@code usage}. */
    private void measure(List<int[]> group, List<KvCache> caches, long[] usage) {
        for (int g = 0; g < group.size(); g++) {
            if (group.get(g).length == window + 1) {
                usage[0] += caches.get(g).bytes();
                usage[1] += caches.get(g).length();
            }
        }
    }

    private double prefillGroup(List<int[]> group, List<KvCache> caches, long[] usage) {
        List<LlamaModel.Step> steps = new ArrayList<>();
        for (int g = 0; g < group.size(); g++) {
            int[] w = group.get(g);
            steps.add(new LlamaModel.Step(caches.get(g), Arrays.copyOf(w, w.length - 1), true));
        }
        float[][] logits = model.forward(steps);
        double nll = 0;
        for (int g = 0; g < group.size(); g++) {
            int[] w = group.get(g);
            for (int t = 0; t + 1 < w.length; t++) {
                nll += negativeLogLikelihood(logits[g], t, model.config().vocabSize(), w[t + 1]);
            }
        }
        measure(group, caches, usage);
        return nll;
    }

    private double decodeGroup(List<int[]> group, List<KvCache> caches, long[] usage) {
        double nll = 0;
        int longest = group.stream().mapToInt(w -> w.length).max().orElse(0);
        for (int t = 0; t + 1 < longest; t++) {
            List<LlamaModel.Step> steps = new ArrayList<>();
            List<int[]> live = new ArrayList<>();
            for (int g = 0; g < group.size(); g++) {
                int[] w = group.get(g);
                if (t + 1 < w.length) {
                    steps.add(new LlamaModel.Step(caches.get(g), new int[] {w[t]}, false));
                    live.add(w);
                }
            }
            float[][] logits = model.forward(steps);
            for (int s = 0; s < live.size(); s++) {
                nll += negativeLogLikelihood(logits[s], 0, model.config().vocabSize(), live.get(s)[t + 1]);
            }
            measure(group, caches, usage);
        }
        return nll;
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
