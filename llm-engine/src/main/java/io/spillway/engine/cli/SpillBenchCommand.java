package io.spillway.engine.cli;

import io.spillway.engine.eval.Documents;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.kv.KvSpill;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.tokenizer.Tokenizer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code spill-bench}: what resuming a session from its spill costs against prefilling its history
 * again, and how many bytes a spill stores per token, for several KV methods and history lengths.
 * The history is real text; past the model's trained context the positions still run (RoPE is
 * defined everywhere), which is all a timing needs.
 */
final class SpillBenchCommand {
    private static final String HELP = """
            usage: bin/spillway spill-bench [options]
              --model DIR         Hugging Face model directory (default: models/tiny-llama)
              --data FILE         text the history is taken from (default: datasets/tiny-llama-valid.json)
              --history LIST      history lengths in tokens, comma-separated (default 1024,4096,16384)
              --kv LIST           KV methods, comma-separated (default fp16,rotatekv2), decode mode
              --chunk N           prompt tokens per prefill step, as the worker's prefill budget (default 256)
              --repeat N          timed restores per point; the best is reported (default 3)
            """;

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("spill-bench", argv, 0, Set.of("model", "data", "history", "kv", "chunk", "repeat"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        Path modelDir = a.path("model", SpillwayCli.defaultModel());
        Path data = a.path("data", SpillwayCli.home().resolve("datasets/tiny-llama-valid.json"));
        int[] histories = a.integers("history", new int[] {1024, 4096, 16384});
        List<String> methods = List.of(a.string("kv", "fp16,rotatekv2").split(","));
        int chunk = a.integer("chunk", 256);
        int repeat = a.integer("repeat", 3);
        if (chunk < 1 || repeat < 1 || Arrays.stream(histories).anyMatch(h -> h < 1)) {
            throw new UsageException("spill-bench: history lengths, --chunk and --repeat must be positive");
        }
        int longest = Arrays.stream(histories).max().orElseThrow();
        ModelConfig config = ModelConfig.load(modelDir);
        try (LlamaModel model = LlamaModel.load(modelDir, config.withMaxPositions(Math.max(config.maxPositions(), longest)))) {
            Tokenizer tokenizer = Tokenizer.load(modelDir);
            int[] text = Documents.tokenStream(Documents.read(data), tokenizer, config.bosTokenId(), config.eosTokenId());
            if (text.length < longest) {
                throw new UsageException("spill-bench: " + data + " has " + text.length + " tokens, fewer than " + longest);
            }
            err.printf("spill-bench: %s, %d cores, warming up%n", modelDir.getFileName(), Runtime.getRuntime().availableProcessors());
            out.printf("%-10s %-8s %-12s %-10s %-12s %-12s %-12s %-8s%n", "kv", "history", "spill bytes", "bytes/tok",
                    "hot bytes", "prefill ms", "restore ms", "speedup");
            for (String method : methods) {
                KvCacheFactory caches;
                try {
                    caches = new KvCacheFactory(model, method, KvCacheFactory.Mode.DECODE);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("spill-bench: --kv " + method + ": " + e.getMessage());
                }
                measure(model, caches, Arrays.copyOf(text, 512), chunk, 1);
                for (int h : histories) {
                    Point p = measure(model, caches, Arrays.copyOf(text, h), chunk, repeat);
                    out.printf("%-10s %-8d %-12d %-10.1f %-12d %-12.1f %-12.2f %-8.1f%n", method, h, p.spillBytes,
                            (double) p.spillBytes / h, p.hotBytes, p.prefillNanos / 1e6, p.restoreNanos / 1e6,
                            (double) p.prefillNanos / p.restoreNanos);
                }
            }
        }
        return 0;
    }

    private record Point(long spillBytes, long hotBytes, long prefillNanos, long restoreNanos) {
    }

    private static Point measure(LlamaModel model, KvCacheFactory caches, int[] history, int chunk, int repeat) {
        try (KvCache cache = caches.get()) {
            long t0 = System.nanoTime();
            for (int from = 0; from < history.length; from += chunk) {
                int[] part = Arrays.copyOfRange(history, from, Math.min(history.length, from + chunk));
                model.forward(List.of(new LlamaModel.Step(cache, part, false)));
            }
            long prefill = System.nanoTime() - t0;
            ByteArrayOutputStream blob = new ByteArrayOutputStream();
            KvSpill.write(cache, history, model.fingerprint(), blob);
            byte[] bytes = blob.toByteArray();
            long restore = Long.MAX_VALUE;
            for (int r = 0; r < repeat; r++) {
                long t1 = System.nanoTime();
                try (KvCache restored = caches.get()) {
                    KvSpill.read(restored, model.fingerprint(), new ByteArrayInputStream(bytes));
                    restore = Math.min(restore, System.nanoTime() - t1);
                }
            }
            return new Point(bytes.length, cache.bytes(), prefill, restore);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
