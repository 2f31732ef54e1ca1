package io.spillway.engine.cli;

import io.spillway.engine.cuda.CudaBackend;
import io.spillway.engine.cuda.CudaCache;
import io.spillway.engine.cuda.CudaDevice;
import io.spillway.engine.cuda.CudaLlamaModel;
import io.spillway.engine.kv.KvSpill;
import io.spillway.engine.runtime.LlamaModel;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * {@code gpu-spill-bench}: what spilling a session saves a GPU worker, at Llama-3-8B shapes with random
 * weights made on the GPU. Per KV method and history length: the prefill that builds the cache (prompt
 * steps of {@code --chunk} tokens, as the worker's prefill budget), writing its spill to a file, and
 * reading that file into an empty GPU cache (best of {@code --repeat}), which is what a worker resuming
 * the session does instead of the prefill. One CSV row per point.
 */
final class GpuSpillBenchCommand {
    private static final String HELP = """
            usage: bin/spillway gpu-spill-bench [options]
              --kv LIST           KV methods: fp16 and/or GPU 2-bit methods (default fp16,rotatekv2)
              --history LIST      history lengths in tokens (default 1024,4096,16384,32768)
              --chunk N           prompt tokens per prefill step (default 256)
              --repeat N          timed restores per point; the best is reported (default 3)
            The spill file goes to java.io.tmpdir (the page cache holds it: storage speed is not measured).
            """;

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("gpu-spill-bench", argv, 0, Set.of("kv", "history", "chunk", "repeat"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        List<String> kvs = GpuBenchCommand.methods(a.string("kv", "fp16,rotatekv2"));
        int[] histories = a.integers("history", new int[] {1024, 4096, 16384, 32768});
        int chunk = a.integer("chunk", 256);
        int repeat = a.integer("repeat", 3);
        if (chunk < 1 || repeat < 1 || Arrays.stream(histories).anyMatch(h -> h < 1)) {
            throw new UsageException("gpu-spill-bench: history lengths, --chunk and --repeat must be positive");
        }
        GpuBenchCommand.checkMethods("gpu-spill-bench", kvs);
        CudaDevice device = CudaBackend.tryOpen(msg -> err.println("gpu-spill-bench: " + msg))
                .orElseThrow(() -> new IllegalStateException("gpu-spill-bench: needs a usable CUDA GPU (see above)"));
        Path file = null;
        try (CudaLlamaModel model = CudaLlamaModel.random(device, GpuBenchCommand.LLAMA3_8B, 1)) {
            file = Files.createTempFile("spillway-gpu-spill", ".bin");
            out.println("backend,kv,history,spill_bytes,bytes_per_token,prefill_ms,spill_ms,restore_ms,prefill_over_restore");
            Random random = new Random(5);
            for (String kv : kvs) {
                IntFunction<CudaCache> caches = kv.equals("fp16") ? model::newCache
                        : GpuBenchCommand.cacheMaker(model, GpuBenchCommand.method(kv));
                measure(model, caches, random.ints(512, 0, model.config().vocabSize()).toArray(), chunk, 1, file);
                for (int h : histories) {
                    long[] p = measure(model, caches, random.ints(h, 0, model.config().vocabSize()).toArray(), chunk, repeat, file);
                    String name = kv.contains(",") ? '"' + kv + '"' : kv;
                    out.printf("cuda,%s,%d,%d,%.1f,%.1f,%.1f,%.2f,%.1f%n", name, h, p[0], (double) p[0] / h, p[1] / 1e6, p[2] / 1e6,
                            p[3] / 1e6, (double) p[1] / p[3]);
                    out.flush();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (file != null) {
                file.toFile().delete();
            }
        }
        return 0;
    }

    /** Spill bytes, then nanoseconds of the prefill, the spill and the best restore. */
    private static long[] measure(CudaLlamaModel model, IntFunction<CudaCache> caches, int[] history, int chunk, int repeat,
                                  Path file) throws IOException {
        try (CudaCache cache = caches.apply(history.length)) {
            long t0 = System.nanoTime();
            for (int from = 0; from < history.length; from += chunk) {
                int[] part = Arrays.copyOfRange(history, from, Math.min(history.length, from + chunk));
                model.forward(List.of(new LlamaModel.Step(cache, part, false)));
            }
            long prefill = System.nanoTime() - t0;
            long t1 = System.nanoTime();
            try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
                KvSpill.write(cache, history, model.fingerprint(), o);
            }
            long spill = System.nanoTime() - t1;
            long restore = Long.MAX_VALUE;
            for (int r = 0; r < repeat; r++) {
                try (CudaCache empty = caches.apply(history.length);
                     InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
                    long t2 = System.nanoTime();
                    KvSpill.read(empty, model.fingerprint(), in);
                    restore = Math.min(restore, System.nanoTime() - t2);
                }
            }
            return new long[] {Files.size(file), prefill, spill, restore};
        }
    }
}
