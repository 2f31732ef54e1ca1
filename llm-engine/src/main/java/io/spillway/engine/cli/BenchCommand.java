package io.spillway.engine.cli;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.LlamaModel;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * {@code bench}: prefill and decode throughput of the engine at several batch sizes, on random
 * token ids (speed does not depend on which tokens), after a warm-up pass for the JIT.
 */
final class BenchCommand {
    private static final String HELP = """
            usage: bin/spillway bench [options]
              --model DIR         Hugging Face model directory (default: models/tiny-llama)
              --batch LIST        batch sizes, comma-separated (default 1,8)
              --prompt-tokens N   prompt length per sequence (default 256)
              --decode-tokens N   decode steps per sequence (default 64)
              --repeat N          timed repetitions; the best is reported (default 3)
              %s
            """.formatted(KvOption.HELP);

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("bench", argv, 0, Set.of("model", "batch", "prompt-tokens", "decode-tokens", "repeat", "kv", "kv-mode"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        KvOption.check("bench", a);
        Path modelDir = a.path("model", SpillwayCli.defaultModel());
        int[] batches = a.integers("batch", new int[] {1, 8});
        int promptTokens = a.integer("prompt-tokens", 256);
        int decodeTokens = a.integer("decode-tokens", 64);
        int repeat = a.integer("repeat", 3);
        if (promptTokens < 1 || decodeTokens < 1 || repeat < 1 || java.util.Arrays.stream(batches).anyMatch(b -> b < 1)) {
            throw new UsageException("bench: batch sizes, token counts and --repeat must be positive");
        }
        try (LlamaModel model = LlamaModel.load(modelDir)) {
            Supplier<KvCache> caches = KvOption.parse("bench", a, model);
            if (promptTokens + decodeTokens > model.config().maxPositions()) {
                throw new UsageException("bench: prompt + decode tokens exceed the model's context of " + model.config().maxPositions());
            }
            err.printf("bench: %s, %d cores, kv %s, warming up%n", modelDir.getFileName(),
                    Runtime.getRuntime().availableProcessors(), a.string("kv", "fp32"));
            measure(model, caches, 1, Math.min(promptTokens, 64), 8);
            out.printf("%-6s %-14s %-16s %-16s%n", "batch", "prompt tokens", "prefill tok/s", "decode tok/s");
            for (int b : batches) {
                double bestPrefill = 0;
                double bestDecode = 0;
                for (int r = 0; r < repeat; r++) {
                    double[] m = measure(model, caches, b, promptTokens, decodeTokens);
                    bestPrefill = Math.max(bestPrefill, m[0]);
                    bestDecode = Math.max(bestDecode, m[1]);
                }
                out.printf("%-6d %-14d %-16.1f %-16.1f%n", b, promptTokens, bestPrefill, bestDecode);
            }
        }
        return 0;
    }

    /** Returns {prefill tokens/s, decode tokens/s} for one run of {@code batch} sequences. */
    private static double[] measure(LlamaModel model, Supplier<KvCache> caches, int batch, int promptTokens, int decodeTokens) {
        SplittableRandom random = new SplittableRandom(42);
        int vocab = model.config().vocabSize();
        List<KvCache> open = new ArrayList<>();
        try {
            List<LlamaModel.Step> prefill = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                KvCache c = caches.get();
                open.add(c);
                prefill.add(new LlamaModel.Step(c, random.ints(promptTokens, 0, vocab).toArray(), false));
            }
            long t0 = System.nanoTime();
            model.forward(prefill);
            long t1 = System.nanoTime();
            for (int s = 0; s < decodeTokens; s++) {
                List<LlamaModel.Step> decode = new ArrayList<>();
                for (KvCache c : open) {
                    decode.add(new LlamaModel.Step(c, new int[] {random.nextInt(vocab)}, false));
                }
                model.forward(decode);
            }
            long t2 = System.nanoTime();
            return new double[] {batch * promptTokens / ((t1 - t0) / 1e9), batch * decodeTokens / ((t2 - t1) / 1e9)};
        } finally {
            open.forEach(KvCache::close);
        }
    }
}
