package io.spillway.engine.cli;

import io.spillway.engine.cuda.CudaBackend;
import io.spillway.engine.cuda.CudaDevice;
import io.spillway.engine.cuda.CudaCache;
import io.spillway.engine.cuda.CudaLlamaModel;
import io.spillway.engine.cuda.CudaRotateKv;
import io.spillway.engine.cuda.CudaRotateKvCache;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.kv.QuantizedKvCache;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.ChannelOrdering;
import io.spillway.kvquant.KvMethod;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.model.RopeConfig;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.IntStream;

/**
 * {@code gpu-bench}: decode throughput of the CUDA backend at Llama-3-8B shapes with random weights
 * made on the GPU, for each KV method, context and batch that fits a fixed KV budget, methods side by
 * side in one run. Caches are filled to the context length with random keys and values instead of a
 * prefill (the 2-bit kernels dequantize, rotate and gather whatever is there, with a random key-channel
 * order standing in for a calibration; random scores move attention's running maxima as real ones
 * do, which zeros would not). One CSV row per point on stdout; the
 * device's copy bandwidth, the roofline, on stderr and in each row. Tokens are drawn on the GPU, one id per
 * sequence back per step: greedily ({@link CudaLlamaModel#forwardGreedy}) or, with {@code --sampling plain} or
 * {@code sampled}, as the worker draws them ({@link CudaLlamaModel#forwardSampled}) with {@link #DRAWS}' parameters.
 */
final class GpuBenchCommand {
    private static final String HELP = """
            usage: bin/spillway gpu-bench [options]
              --kv LIST           KV methods side by side: fp16 and/or GPU 2-bit methods (default fp16,rotatekv2);
                                  a method's own overrides may follow it: fp16,rotatekv2:prerope=off,rotation-heads=1
              --contexts LIST     cached tokens per sequence (default 1024,4096,16384,32768)
              --batches LIST      sequences per step; 'max' = as many as the KV budget holds (default 1,4,16,64,max)
              --kv-budget-gib G   GPU memory for KV caches (default 40)
              --steps N           timed decode steps per point (default 16, after 3 warm-up steps)
              --graphs LIST       on: decode steps replay captured CUDA graphs; off: each kernel launched from
                                  Java; on,off measures both side by side (default on)
              --sampling LIST     how tokens are drawn, side by side (default greedy): greedy: argmax on the GPU;
                                  plain: the worker's GPU draw at temperature 1 without filters (the OpenAI
                                  API's defaults); sampled: the same with temperature 0.6, top-p 0.9, top-k 50
              --profile           after each point, one more step with every launch timed on the GPU:
                                  milliseconds by kernel (GEMMs by shape) on stderr
            Caches are filled with random rows; 2-bit caches' first positions own their sink activations, as
            after a real prompt, so that new tokens seldom take the sink tracker's walk.
            """;

    /**
     * {@code --sampling}'s draws by name. {@code sampled} is Llama-3-8B-Instruct's generation_config.json
     * (temperature 0.6, top-p 0.9) with transformers' default top-k of 50, so both of sample_rows' filters
     * over the vocabulary run; {@code plain} runs neither.
     */
    static final Map<String, SamplingParams> DRAWS;

    static {
        Map<String, SamplingParams> draws = new LinkedHashMap<>();
        draws.put("greedy", SamplingParams.greedy(1));
        draws.put("plain", SamplingParams.sample(1));
        draws.put("sampled", SamplingParams.sample(1).withTemperature(0.6).withTopP(0.9).withTopK(50));
        DRAWS = Collections.unmodifiableMap(draws);
    }

    /** Llama-3-8B's config.json shapes. */
    static final ModelConfig LLAMA3_8B = new ModelConfig("LlamaForCausalLM", 4096, 14336, 32, 32, 8, 128, 128256, 131072,
            1e-5, false, RopeConfig.plain(500000), 128000, 128001);

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("gpu-bench", argv, 0, Set.of("kv", "contexts", "batches", "kv-budget-gib", "steps", "graphs", "sampling"), Set.of("help", "profile"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        int[] contexts = list(a.string("contexts", "1024,4096,16384,32768"), "contexts");
        String batchSpec = a.string("batches", "1,4,16,64,max");
        double budgetGib = a.number("kv-budget-gib", 40);
        int steps = a.integer("steps", 16);
        if (budgetGib <= 0 || steps < 1) {
            throw new UsageException("gpu-bench: --kv-budget-gib and --steps must be positive");
        }
        List<String> kvs = methods(a.string("kv", "fp16,rotatekv2"));
        List<Boolean> graphModes = choices("graphs", a.string("graphs", "on"), List.of("on", "off")).stream()
                .map("on"::equals).toList();
        List<String> draws = choices("sampling", a.string("sampling", "greedy"), DRAWS.keySet());
        checkMethods("gpu-bench", kvs);
        CudaDevice device = CudaBackend.tryOpen(msg -> err.println("gpu-bench: " + msg))
                .orElseThrow(() -> new IllegalStateException("gpu-bench: needs a usable CUDA GPU (see above)"));
        double copy = device.copyBandwidth(1L << 30, 20);
        err.printf("gpu-bench: device copy bandwidth %.0f GB/s (read + written)%n", copy / 1e9);
        ModelConfig c = LLAMA3_8B;
        try (CudaLlamaModel model = CudaLlamaModel.random(device, c, 1)) {
            // What a step reads of the weights: every layer's matrices and the LM head; of the embedding table
            // only each token's row (counted per point below). Norm vectors are too small to count.
            long weightBytes = 2L * ((long) c.numLayers() * ((long) c.hiddenSize() * (c.qDim() + 2L * c.kvDim() + c.qDim())
                    + 3L * c.hiddenSize() * c.intermediateSize()) + (long) c.vocabSize() * c.hiddenSize());
            List<IntFunction<CudaCache>> makers = new ArrayList<>();
            for (String kv : kvs) {
                makers.add(kv.equals("fp16") ? null : cacheMaker(model, method(kv)));
            }
            out.println("backend,kv,graphs,context,batch,max_batch,tokens_per_s,step_ms,gpu_mem_gib,kv_gib,kv_bytes_per_token,"
                    + "achieved_gb_s,bandwidth_fraction,sampling");
            for (int context : contexts) {
                int capacity = context + steps + 4;
                for (int m = 0; m < kvs.size(); m++) {
                    IntFunction<CudaCache> caches = makers.get(m) == null ? model::newCache : makers.get(m);
                    long perSequence;
                    try (CudaCache probe = caches.apply(capacity)) {
                        perSequence = probe.bytesFor(capacity);
                    }
                    // Everything a sequence's cache allocates, window and sink rows included, per token of capacity.
                    double perToken = (double) perSequence / capacity;
                    int maxBatch = (int) (budgetGib * (1L << 30) / perSequence);
                    for (int batch : batches(batchSpec, maxBatch)) {
                        if (batch > maxBatch || batch < 1) {
                            continue;
                        }
                        for (boolean graphs : graphModes) {
                            for (String draw : draws) {
                                model.useGraphs(graphs);
                                double[] r = measure(model, caches, batch, context, capacity, steps, draw,
                                        a.has("profile") ? err : null);
                                double ms = r[0];
                                double bytesRead = weightBytes + 2.0 * batch * c.hiddenSize() + (double) batch * context * perToken;
                                double achieved = bytesRead / (ms / 1e3);
                                String kv = kvs.get(m).contains(",") ? '"' + kvs.get(m) + '"' : kvs.get(m);
                                out.printf("cuda,%s,%s,%d,%d,%d,%.1f,%.3f,%.2f,%.2f,%.0f,%.0f,%.3f,%s%n", kv, graphs ? "on" : "off",
                                        context, batch, maxBatch, batch / (ms / 1e3), ms, r[1] / (double) (1L << 30),
                                        (double) batch * perSequence / (1L << 30), perToken, achieved / 1e9, achieved / copy,
                                        draw);
                                out.flush();
                            }
                        }
                    }
                }
            }
        }
        return 0;
    }

    /** Refuses a method the GPU cannot keep, with the reason. */
    static void checkMethods(String command, List<String> kvs) {
        for (String kv : kvs) {
            String why = kv.equals("fp16") ? null : CudaRotateKv.unsupported(method(kv));
            if (why != null) {
                throw new UsageException(command + ": --kv " + kv + " cannot run on the GPU: " + why);
            }
        }
    }

    /**
     * The methods of a comma-separated list whose methods may hold commas themselves: an item with '='
     * and no ':' is one more override of the method before it ({@code rotatekv2:prerope=off,rotation-heads=1}).
     */
    static List<String> methods(String list) {
        List<String> out = new ArrayList<>();
        for (String item : list.split(",")) {
            String s = item.strip();
            if (s.contains("=") && !s.contains(":") && !out.isEmpty()) {
                out.set(out.size() - 1, out.getLast() + "," + s);
            } else {
                out.add(s);
            }
        }
        return out;
    }

    /** Milliseconds per decode step and GPU memory in use at the end (bytes); a profiled step's kernels to {@code profile}. */
    private static double[] measure(CudaLlamaModel model, IntFunction<CudaCache> make, int batch, int context, int capacity,
                                    int steps, String draw, PrintStream profile) {
        List<CudaCache> caches = new ArrayList<>();
        Random random = new Random(7);
        SamplingParams params = DRAWS.get(draw);
        try {
            for (int i = 0; i < batch; i++) {
                CudaCache cache = make.apply(capacity);
                cache.extendRandom(context, i + 1);
                if (cache instanceof CudaRotateKvCache quantized) {
                    quantized.settleSinks();
                }
                caches.add(cache);
            }
            int vocab = model.config().vocabSize();
            long start = 0;
            for (int s = 0; s < steps + 3; s++) {
                if (s == 3) {
                    start = System.nanoTime();
                }
                draw(model, decodeStep(caches, random, vocab), params, random);
            }
            double ms = (System.nanoTime() - start) / 1e6 / steps;
            double used = model.device().usedBytes();
            if (profile != null) {
                profile(model, caches, random, params, profile, "context " + context + " batch " + batch + " " + draw);
            }
            return new double[] {ms, used};
        } finally {
            caches.forEach(CudaCache::close);
        }
    }

    /** One new random token for every sequence. */
    private static List<LlamaModel.Step> decodeStep(List<CudaCache> caches, Random random, int vocab) {
        List<LlamaModel.Step> decode = new ArrayList<>();
        for (CudaCache cache : caches) {
            decode.add(new LlamaModel.Step(cache, new int[] {random.nextInt(vocab)}, false));
        }
        return decode;
    }

    /** Runs the step and draws each sequence's next token on the GPU: argmax_rows when greedy, else sample_rows. */
    private static void draw(CudaLlamaModel model, List<LlamaModel.Step> steps, SamplingParams params, Random random) {
        if (params.isGreedy()) {
            model.forwardGreedy(steps);
        } else {
            model.forwardSampled(steps, Collections.nCopies(steps.size(), params), random.doubles(steps.size()).toArray());
        }
    }

    /** One decode step with every launch timed (graphs off: the caller sets them again); kernels by GPU time, largest first. */
    private static void profile(CudaLlamaModel model, List<CudaCache> caches, Random random, SamplingParams draw,
                                PrintStream err, String point) {
        List<LlamaModel.Step> decode = decodeStep(caches, random, model.config().vocabSize());
        model.useGraphs(false);
        model.device().startProfile();
        try {
            draw(model, decode, draw, random);
        } finally {
            var times = model.device().stopProfile();
            double total = times.values().stream().mapToDouble(t -> t[1]).sum();
            err.printf("gpu-bench: profile %s: %.3f ms of GPU time in %d launches%n", point, total,
                    (int) times.values().stream().mapToDouble(t -> t[0]).sum());
            times.entrySet().stream().sorted((x, y) -> Double.compare(y.getValue()[1], x.getValue()[1])).forEach(e ->
                    err.printf("gpu-bench:   %-28s %5d calls %8.3f ms %5.1f%%%n", e.getKey(), (int) e.getValue()[0], e.getValue()[1],
                            100 * e.getValue()[1] / total));
        }
    }

    /** A list option's names in the order given, each once, or an error naming the known ones. */
    static List<String> choices(String option, String list, Collection<String> known) {
        return Arrays.stream(list.split(",")).map(String::strip).map(name -> {
            if (!known.contains(name)) {
                throw new UsageException("gpu-bench: --" + option + " takes " + String.join(", ", known) + ", got '" + name + "'");
            }
            return name;
        }).distinct().toList();
    }

    static KvMethod method(String spec) {
        try {
            return KvMethod.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new UsageException("gpu-bench: --kv: " + e.getMessage());
        }
    }

    /** Caches of a 2-bit method, keys gathered by a random order per layer where the method reorders. */
    static IntFunction<CudaCache> cacheMaker(CudaLlamaModel model, KvMethod method) {
        ModelConfig c = model.config();
        Calibration calibration = null;
        if (method.keys().reorder()) {
            KvLayout layout = KvLayout.of(c);
            Random random = new Random(11);
            int[][] orders = new int[c.numLayers()][];
            for (int l = 0; l < orders.length; l++) {
                List<Integer> o = new ArrayList<>(IntStream.range(0, c.kvDim()).boxed().toList());
                Collections.shuffle(o, random);
                orders[l] = o.stream().mapToInt(Integer::intValue).toArray();
            }
            calibration = new Calibration(model.fingerprint(), QuantizedKvCache.keyRotationSize(method, layout), c.headDim(),
                    Collections.nCopies(orders.length, ChannelOrdering.SUM), orders);
        }
        CudaRotateKv kv = model.rotateKv(method, calibration, true);
        System.err.println("gpu-bench: " + method.name() + " " + kv.attentionResources());
        return kv::newCache;
    }

    private static int[] batches(String spec, int max) {
        return Arrays.stream(spec.split(",")).mapToInt(s -> s.strip().equals("max") ? max : parse(s, "batches")).distinct().toArray();
    }

    private static int[] list(String spec, String option) {
        return Arrays.stream(spec.split(",")).mapToInt(s -> parse(s, option)).toArray();
    }

    private static int parse(String s, String option) {
        try {
            int v = Integer.parseInt(s.strip());
            if (v < 1) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new UsageException("gpu-bench: --" + option + " takes positive integers separated by commas, got '" + s + "'");
        }
    }
}
