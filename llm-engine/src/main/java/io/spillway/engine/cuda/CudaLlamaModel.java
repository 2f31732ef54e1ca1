package io.spillway.engine.cuda;

import io.spillway.engine.CheckpointException;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.model.Checkpoint;
import io.spillway.engine.model.DType;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.model.Tensor;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.runtime.Rope;
import io.spillway.engine.runtime.SamplingDecoder;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tensor.WeightMatrix;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.KvMethod;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Llama decoder on a CUDA GPU: fp16 weights, cuBLAS GEMMs with fp32 accumulation, fp32
 * activations between the NVRTC-compiled kernels, and fp16 KV in {@link CudaKvCache}s. Same
 * {@link #forward} contract as the CPU {@link LlamaModel}: any mix of prefill chunks and decode tokens.
 */
public final class CudaLlamaModel implements SamplingDecoder {
    private static final int THREADS = 256;
    /** Captured decode steps kept, least recently used dropped first. */
    private static final int GRAPHS = 32;

    private final CudaDevice device;
    private final ModelConfig config;
    private final Pointer embedding;
    private final Pointer lmHead;
    private final Pointer finalNorm;
    private final Pointer invFreq;
    private final Layer[] layers;
    private final String fingerprint;
    private final CudaPagePool pages;
    private Scratch scratch;
    private final GrowingBuffer partial;
    private final GrowingBuffer unpacked;
    private boolean graphs = Boolean.parseBoolean(System.getProperty("spillway.cuda.graphs", "true"));
    private final Map<GraphKey, CudaDevice.Graph> captured = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<GraphKey, CudaDevice.Graph> eldest) {
            if (size() > GRAPHS) {
                eldest.getValue().close();
                return true;
            }
            return false;
        }
    };

    /**
     * One decoder layer's weights. q, k and v are stacked by rows into one matrix, as are gate and up: one
     * GEMM reads each stack, which keeps the multiprocessors busier than three or two smaller ones at
     * small batch (qkvBias: null where the model has no q/k/v biases).
     */
    private record Layer(Pointer inputNorm, Pointer qkv, Pointer qkvBias, Pointer o, Pointer postNorm, Pointer gateUp,
                         Pointer down) {
    }

    /** Where the weights come from: a checkpoint, or random values made on the GPU. */
    private interface Weights {
        /** Writes a rows x cols matrix as fp16 at {@code dst}. */
        void matrix(String name, int rows, int cols, Pointer dst);

        Pointer vector(String name, int n);

        /** On the host; null where the model has no such bias. */
        float[] bias(String name, int n);

        boolean has(String name);
    }

    private CudaLlamaModel(CudaDevice device, Path dir, String fingerprint, ModelConfig c, Weights ws) {
        this.device = device;
        this.config = c;
        this.fingerprint = fingerprint;
        int h = c.hiddenSize();
        this.embedding = stack(ws, h, List.of("model.embed_tokens.weight"), c.vocabSize());
        if (c.tieWordEmbeddings()) {
            this.lmHead = embedding;
        } else if (ws.has("lm_head.weight")) {
            this.lmHead = stack(ws, h, List.of("lm_head.weight"), c.vocabSize());
        } else {
            throw new CheckpointException(dir.resolve("config.json"), "tie_word_embeddings",
                    "is false but the checkpoint has no lm_head.weight");
        }
        this.finalNorm = ws.vector("model.norm.weight", h);
        this.invFreq = device.upload(Rope.inverseFrequencies(c.rope(), c.headDim()));
        this.layers = new Layer[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            String a = p + "self_attn.";
            int inter = c.intermediateSize();
            layers[l] = new Layer(
                    ws.vector(p + "input_layernorm.weight", h),
                    stack(ws, h, List.of(a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight"), c.qDim(), c.kvDim(), c.kvDim()),
                    qkvBias(ws, a),
                    stack(ws, c.qDim(), List.of(a + "o_proj.weight"), h),
                    ws.vector(p + "post_attention_layernorm.weight", h),
                    stack(ws, h, List.of(p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"), inter, inter),
                    stack(ws, inter, List.of(p + "mlp.down_proj.weight"), h));
        }
        if (c.headDim() % 32 != 0 || c.headDim() > 128 || c.numHeads() / c.numKvHeads() > 8) {
            throw new IllegalArgumentException("the CUDA attention kernel needs head_dim a multiple of 32 up to 128 and at most"
                    + " 8 query heads per KV head, got head_dim " + c.headDim() + ", " + c.numHeads() / c.numKvHeads());
        }
        this.pages = new CudaPagePool(device, CudaKvCache.pageBytes(KvLayout.of(c)));
        this.partial = new GrowingBuffer(device);
        this.unpacked = new GrowingBuffer(device);
        device.synchronize();
    }

    /** One allocation holding the named matrices of {@code cols} columns one under the other. */
    private Pointer stack(Weights ws, int cols, List<String> names, int... rows) {
        long total = 0;
        for (int r : rows) {
            total += r;
        }
        Pointer out = device.alloc(2 * total * cols);
        long at = 0;
        for (int i = 0; i < names.size(); i++) {
            ws.matrix(names.get(i), rows[i], cols, offset(out, 2 * at * cols));
            at += rows[i];
        }
        return out;
    }

    /** The q, k and v biases end to end (zeros for any the checkpoint lacks), or null when it has none. */
    private Pointer qkvBias(Weights ws, String attention) {
        ModelConfig c = config;
        float[][] parts = {ws.bias(attention + "q_proj.bias", c.qDim()), ws.bias(attention + "k_proj.bias", c.kvDim()),
                ws.bias(attention + "v_proj.bias", c.kvDim())};
        if (parts[0] == null && parts[1] == null && parts[2] == null) {
            return null;
        }
        float[] all = new float[c.qDim() + 2 * c.kvDim()];
        int[] at = {0, c.qDim(), c.qDim() + c.kvDim()};
        for (int i = 0; i < 3; i++) {
            if (parts[i] != null) {
                System.arraycopy(parts[i], 0, all, at[i], parts[i].length);
            }
        }
        return device.upload(all);
    }

    /** Device memory {@code bytes} past {@code base}. */
    private static Pointer offset(Pointer base, long bytes) {
        return CudaDevice.at(base.address() + bytes);
    }

    /** Copies a Hugging Face model directory's weights to the GPU of {@code device}. */
    public static CudaLlamaModel load(CudaDevice device, Path dir) {
        ModelConfig config = ModelConfig.load(dir);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            return new CudaLlamaModel(device, dir, ckpt.fingerprint(), config, new Weights() {
                @Override
                public void matrix(String name, int rows, int cols, Pointer dst) {
                    upload(device, ckpt.require(name, rows, cols), dst);
                }

                @Override
                public Pointer vector(String name, int n) {
                    return device.upload(floats(ckpt.require(name, n)));
                }

                @Override
                public float[] bias(String name, int n) {
                    return ckpt.find(name).map(t -> floats(ckpt.require(name, n))).orElse(null);
                }

                @Override
                public boolean has(String name) {
                    return ckpt.find(name).isPresent();
                }
            });
        }
    }

    /**
     * A model of {@code config}'s shapes with random fp16 weights made on the GPU (uniform, small enough
     * that activations stay finite) and unit norms: decode speed does not depend on the values, and
     * weights of real sizes cannot travel to the GPU host.
     */
    public static CudaLlamaModel random(CudaDevice device, ModelConfig config, int seed) {
        int[] next = {seed};
        return new CudaLlamaModel(device, Path.of("random"), "random-" + seed, config, new Weights() {
            @Override
            public void matrix(String name, int rows, int cols, Pointer dst) {
                long n = (long) rows * cols;
                device.fillRandom(dst, n, next[0]++, (float) (1 / Math.sqrt(cols)));
            }

            @Override
            public Pointer vector(String name, int n) {
                float[] ones = new float[n];
                java.util.Arrays.fill(ones, 1f);
                return device.upload(ones);
            }

            @Override
            public float[] bias(String name, int n) {
                return null;
            }

            @Override
            public boolean has(String name) {
                return true;
            }
        });
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public CudaDevice device() {
        return device;
    }

    /** The checkpoint's fingerprint, which a key-channel calibration must name. */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * A quantized KV method on this GPU (see {@link CudaRotateKv} for what runs here).
     * @param calibration key-channel orders, required when the method reorders
     * @param residualWindow keep the newest block fp16 until full, or pack every token at once
     */
    public CudaRotateKv rotateKv(KvMethod method, Calibration calibration, boolean residualWindow) {
        return new CudaRotateKv(device, config, invFreq, method, calibration, residualWindow);
    }

    /** An fp16 cache for sequences of up to {@code capacity} tokens. */
    public CudaKvCache newCache(int capacity) {
        if (capacity < 1 || capacity > config.maxPositions()) {
            throw new IllegalArgumentException("cache capacity must be in [1, " + config.maxPositions() + "], got " + capacity);
        }
        return new CudaKvCache(device, pages, KvLayout.of(config), capacity);
    }

    /** Weights go up as fp16 whatever the checkpoint's type: the GEMMs take fp16 on both sides. */
    private static void upload(CudaDevice device, Tensor t, Pointer out) {
        long n = t.elements();
        BytePointer host = new BytePointer(t.data().asByteBuffer());
        if (t.dtype() == DType.F16) {
            device.toDevice(out, host, 2 * n);
            return;
        }
        Pointer raw = device.alloc(n * t.dtype().bytes());
        device.toDevice(raw, host, n * t.dtype().bytes());
        device.launch(t.dtype() == DType.BF16 ? "bf16_to_half" : "f32_to_half", CudaDevice.blocks(n, THREADS), 1, THREADS, raw, out, n);
        device.synchronize();
        device.free(raw);
    }

    private static float[] floats(Tensor t) {
        float[] v = new float[(int) t.elements()];
        new WeightMatrix(t.data(), t.dtype(), 1, v.length).rowsToFloat(0, 1, v, 0);
        return v;
    }

    /** Activation buffers sized for the largest step seen so far. */
    private final class Scratch {
        final int tokens;
        final int rows;
        /** q, k and v are views into qkv, a token's three side by side. */
        final Pointer x, xn, qkv, q, k, v, attn, gateUp, act, ids, pos, cache, picked, pickedRows, logits, windowStart,
                seqFirst, seqCount, sampling, topK, tiles, seqLast, kvRows;

        Scratch(int tokens, int rows) {
            this.tokens = tokens;
            this.rows = rows;
            ModelConfig c = config;
            long t = tokens;
            x = device.alloc(4 * t * c.hiddenSize());
            xn = device.alloc(2 * t * c.hiddenSize());
            qkv = device.alloc(4 * t * (c.qDim() + 2L * c.kvDim()));
            q = qkv;
            k = offset(qkv, 4L * c.qDim());
            v = offset(qkv, 4L * (c.qDim() + c.kvDim()));
            attn = device.alloc(2 * t * c.qDim());
            gateUp = device.alloc(8 * t * c.intermediateSize());
            act = device.alloc(2 * t * c.intermediateSize());
            ids = device.alloc(4 * t);
            pos = device.alloc(4 * t);
            cache = device.alloc(8 * t);
            picked = device.alloc(2L * rows * c.hiddenSize());
            pickedRows = device.alloc(4L * rows);
            logits = device.alloc(4L * rows * c.vocabSize());
            windowStart = device.alloc(4 * t);
            seqFirst = device.alloc(4 * t);
            seqCount = device.alloc(4 * t);
            sampling = device.alloc(16L * rows);
            topK = device.alloc(4L * rows);
            tiles = device.alloc(8 * t);
            seqLast = device.alloc(4 * t);
            kvRows = device.alloc(8 * t);
        }

        void free() {
            for (Pointer p : List.of(x, xn, qkv, attn, gateUp, act, ids, pos, cache, picked, pickedRows, logits,
                    windowStart, seqFirst, seqCount, sampling, topK, tiles, seqLast, kvRows)) {
                device.free(p);
            }
        }
    }

    private Scratch scratch(int tokens, int rows) {
        if (scratch == null || scratch.tokens < tokens || scratch.rows < rows) {
            dropGraphs();
            if (scratch != null) {
                scratch.free();
            }
            scratch = new Scratch(Math.max(tokens, scratch == null ? 0 : scratch.tokens), Math.max(rows, scratch == null ? 0 : scratch.rows));
        }
        return scratch;
    }

    @Override
    public synchronized float[][] forward(List<LlamaModel.Step> steps) {
        int rows = run(steps);
        int vocab = config.vocabSize();
        float[] all = new float[rows * vocab];
        device.download(all, scratch.logits, (long) rows * vocab);
        commit(steps);
        float[][] out = new float[steps.size()][];
        int r = 0;
        for (int i = 0; i < steps.size(); i++) {
            int n = steps.get(i).allLogits() ? steps.get(i).tokens().length : 1;
            out[i] = java.util.Arrays.copyOfRange(all, r * vocab, (r + n) * vocab);
            r += n;
        }
        return out;
    }

    /**
     * Like {@link #forward} but samples greedily on the GPU: per step, the argmax of its last token's
     * logits. Steps must not ask for all logits.
     */
    public synchronized int[] forwardGreedy(List<LlamaModel.Step> steps) {
        lastTokensOnly(steps);
        int rows = run(steps);
        device.launch("argmax_rows", rows, 1, 1024, scratch.logits, config.vocabSize(), scratch.ids);
        int[] ids = new int[rows];
        device.downloadInts(ids, scratch.ids, rows);
        commit(steps);
        return drawn(ids);
    }

    /** Draws on the GPU with llama.cu's {@code sample_rows}: temperature, top-k, top-p and min-p as the host Sampler. */
    @Override
    public synchronized int[] forwardSampled(List<LlamaModel.Step> steps, List<SamplingParams> params, double[] uniforms) {
        lastTokensOnly(steps);
        checkSampling(steps.size(), params, uniforms);
        run(steps);
        int[] ids = draw(scratch.logits, params, uniforms, scratch.sampling, scratch.topK, scratch.ids);
        commit(steps);
        return drawn(ids);
    }

    /** The kernels draw -1 from a row of logits holding NaN; refused as the host Sampler refuses it, after the step's caches are kept. */
    private static int[] drawn(int[] ids) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException("the logits of step " + i + " contain NaN");
            }
        }
        return ids;
    }

    /** {@link #forwardSampled}'s draw over rows of logits given here (one per params entry), for tests. */
    synchronized int[] sample(float[][] logits, List<SamplingParams> params, double[] uniforms) {
        checkSampling(logits.length, params, uniforms);
        int rows = logits.length;
        int vocab = config.vocabSize();
        float[] flat = new float[rows * vocab];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(logits[r], 0, flat, r * vocab, vocab);
        }
        Pointer onDevice = device.upload(flat);
        Pointer sampling = device.alloc(16L * rows);
        Pointer topK = device.alloc(4L * rows);
        Pointer out = device.alloc(4L * rows);
        try {
            return drawn(draw(onDevice, params, uniforms, sampling, topK, out));
        } finally {
            List.of(onDevice, sampling, topK, out).forEach(device::free);
        }
    }

    private int[] draw(Pointer logits, List<SamplingParams> params, double[] uniforms, Pointer sampling, Pointer topK, Pointer out) {
        int rows = params.size();
        float[] p = new float[4 * rows];
        int[] k = new int[rows];
        for (int i = 0; i < rows; i++) {
            SamplingParams s = params.get(i);
            p[4 * i] = s.isGreedy() ? 0 : (float) s.temperature();
            p[4 * i + 1] = (float) s.topP();
            p[4 * i + 2] = (float) s.minP();
            p[4 * i + 3] = (float) uniforms[i];
            k[i] = s.topK();
        }
        device.uploadFloats(sampling, p);
        device.uploadInts(topK, k);
        device.launch("sample_rows", rows, 1, 1024, logits, config.vocabSize(), sampling, topK, out);
        int[] ids = new int[rows];
        device.downloadInts(ids, out, rows);
        return ids;
    }

    private static void lastTokensOnly(List<LlamaModel.Step> steps) {
        for (LlamaModel.Step s : steps) {
            if (s.allLogits()) {
                throw new IllegalArgumentException("sampling on the GPU takes the last token's logits only");
            }
        }
    }

    private static void checkSampling(int rows, List<SamplingParams> params, double[] uniforms) {
        if (params.size() != rows || uniforms.length != rows) {
            throw new IllegalArgumentException("need one sampling params and one uniform per step: " + rows + " steps, "
                    + params.size() + " params, " + uniforms.length + " uniforms");
        }
        for (int i = 0; i < rows; i++) {
            if (!(uniforms[i] >= 0 && uniforms[i] < 1)) {
                throw new IllegalArgumentException("uniform " + i + " must be in [0, 1), got " + uniforms[i]);
            }
            if (params.get(i).usesHistory()) {
                throw new IllegalArgumentException("a repetition penalty needs the sequence's history: sample step " + i
                        + " on the host from forward()'s logits");
            }
        }
    }

    private static void commit(List<LlamaModel.Step> steps) {
        for (LlamaModel.Step s : steps) {
            s.cache().commit(s.tokens().length);
        }
    }

    /**
     * Runs the layers and the LM head; returns the number of logit rows left in the scratch buffer (in step
     * order). Tokens are laid out decode steps first: decode attention's kernels take those, prefill attention
     * the chunks after them.
     */
    private int run(List<LlamaModel.Step> steps) {
        int total = 0;
        int rows = 0;
        for (LlamaModel.Step s : steps) {
            validate(s);
            total += s.tokens().length;
            rows += s.allLogits() ? s.tokens().length : 1;
        }
        CudaCache head = (CudaCache) steps.getFirst().cache();
        CudaRotateKv quantized = head instanceof CudaRotateKvCache q ? q.method() : null;
        int[] first = new int[steps.size()];
        int t = 0;
        int decodeTokens = 0;
        for (boolean decode : new boolean[] {true, false}) {
            for (int si = 0; si < steps.size(); si++) {
                int n = steps.get(si).tokens().length;
                if ((n == 1) == decode) {
                    first[si] = t;
                    t += n;
                }
            }
            decodeTokens = decode ? t : decodeTokens;
        }
        int[] ids = new int[total];
        int[] pos = new int[total];
        long[] cacheOf = new long[total];
        int[] windowStart = new int[total];
        int[] picked = new int[rows];
        int[] seqFirst = new int[steps.size()];
        int[] seqCount = new int[steps.size()];
        Prefill prefill = new Prefill(config.numHeads() / config.numKvHeads());
        int r = 0;
        for (int si = 0; si < steps.size(); si++) {
            LlamaModel.Step s = steps.get(si);
            CudaCache cache = (CudaCache) s.cache();
            if ((cache instanceof CudaRotateKvCache q ? q.method() : null) != quantized) {
                throw new IllegalArgumentException("caches of one forward step must share their KV method");
            }
            int n = s.tokens().length;
            cache.ensure(cache.length() + n);
            seqFirst[si] = first[si];
            seqCount[si] = n;
            int window = cache instanceof CudaRotateKvCache q ? q.windowStart(cache.length() + n) : 0;
            for (int i = 0; i < n; i++) {
                int at = first[si] + i;
                ids[at] = s.tokens()[i];
                pos[at] = cache.length() + i;
                cacheOf[at] = cache.address();
                windowStart[at] = window;
                if (s.allLogits() || i == n - 1) {
                    picked[r++] = at;
                }
            }
            if (n > 1) {
                prefill.add(first[si], n, cache.length() + n);
            }
        }
        int maxLength = 0;
        for (int i = 0; i < decodeTokens; i++) {
            maxLength = Math.max(maxLength, pos[i] + 1);
        }
        Scratch b = scratch(total, rows);
        device.uploadInts(b.ids, ids);
        device.uploadInts(b.pos, pos);
        device.uploadLongs(b.cache, cacheOf);
        device.uploadInts(b.pickedRows, picked);
        if (quantized != null) {
            device.uploadInts(b.windowStart, windowStart);
            device.uploadInts(b.seqFirst, seqFirst);
            device.uploadInts(b.seqCount, seqCount);
        }
        if (prefill.tiles() > 0) {
            device.uploadInts(b.tiles, prefill.tileArray());
            if (quantized != null) {
                device.uploadInts(b.seqLast, prefill.lastTokens());
                device.uploadLongs(b.kvRows, prefill.rowAddresses(total, unpackedRows(prefill.unpackedBytes(config.kvDim())), config.kvDim()));
            }
        }
        StepShape shape = shape(total, rows, steps.size(), decodeTokens, maxLength, quantized, prefill);
        if (graphs && total == steps.size()) {
            GraphKey key = new GraphKey(shape, quantized == null ? 0 : quantized.ropeAddress());
            CudaDevice.Graph graph = captured.get(key);
            if (graph == null) {
                graph = device.capture(() -> enqueue(b, shape));
                captured.put(key, graph);
            }
            graph.launch();
        } else {
            enqueue(b, shape);
        }
        return rows;
    }

    /**
     * What a step's launches depend on besides the values its device buffers hold: decode attention splits
     * the context rounded up by {@link AttentionSplits#span}, so a decoding batch keeps one shape (and one
     * captured graph) for many steps; chunks past a sequence's end are empty. Prefill attention takes
     * {@code prefillTiles} tiles of query tokens; a 2-bit step first decodes {@code prefillSequences}
     * sequences' rows, {@code span} positions each.
     */
    private record StepShape(int tokens, int rows, int sequences, int decodeTokens, int splits, int chunk,
                             CudaRotateKv quantized, int prefillTiles, int prefillSequences, int span) {
    }

    /** A captured decode step: its shape, and the RoPE table it reads, which moves when a longer cache is made. */
    private record GraphKey(StepShape shape, long rope) {
    }

    private StepShape shape(int total, int rows, int sequences, int decodeTokens, int maxLength, CudaRotateKv quantized,
                            Prefill prefill) {
        ModelConfig c = config;
        int span = AttentionSplits.span(maxLength);
        long groups = (long) decodeTokens * (quantized == null ? c.numKvHeads() : quantized.groupsPerToken());
        int splits = groups == 0 ? 1 : quantized == null ? AttentionSplits.fp16(groups, span, device.multiprocessors())
                : AttentionSplits.twoBit(groups, span, quantized.attendWave());
        if (quantized != null) {
            ensurePartial(quantized.partialBytes(decodeTokens, splits));
        } else if (splits > 1) {
            ensurePartial(4L * decodeTokens * c.numHeads() * splits * (c.headDim() + 2));
        }
        return new StepShape(total, rows, sequences, decodeTokens, splits, (span + splits - 1) / splits, quantized,
                prefill.tiles(), prefill.sequences(), prefill.span());
    }

    /** Launches the layers and the LM head for a step whose inputs are in {@code b}; allocates and copies nothing. */
    private void enqueue(Scratch b, StepShape s) {
        ModelConfig c = config;
        int h = c.hiddenSize();
        int total = s.tokens();
        CudaRotateKv quantized = s.quantized();
        Pointer layout = quantized == null ? null : quantized.layout();
        float eps = (float) c.rmsNormEps();
        int heads = c.numHeads();
        int kvHeads = c.numKvHeads();
        int d = c.headDim();
        int inter = c.intermediateSize();
        int qkv = c.qDim() + 2 * c.kvDim();
        device.launch("embed", total, 1, THREADS, embedding, b.ids, b.x, h);
        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            device.normGemm(w.qkv(), b.x, w.inputNorm(), eps, b.xn, b.qkv, qkv, h, total);
            if (w.qkvBias() != null) {
                device.launch("add_bias", CudaDevice.blocks((long) total * qkv, THREADS), 1, THREADS, b.qkv, w.qkvBias(), qkv, (long) total * qkv);
            }
            if (quantized == null) {
                device.launch("rope_store", total, heads + kvHeads, d / 2, b.q, b.k, b.v, invFreq, b.pos, b.cache, l, heads, kvHeads, d, qkv);
                if (s.decodeTokens() > 0) {
                    attend(b, s, l);
                }
                if (s.prefillTiles() > 0) {
                    attendPrefill(b, s, b.cache, (long) l * 2 * kvHeads * CudaCache.PAGE * d, 0);
                }
            } else {
                quantized.append(b.q, b.k, b.v, b.pos, b.windowStart, b.cache, layout, total, l);
                quantized.trackSinks(b.x, b.k, b.v, b.seqFirst, b.seqCount, b.pos, b.cache, layout, s.sequences(), l);
                if (s.decodeTokens() > 0) {
                    quantized.attend(b.q, b.pos, b.windowStart, b.cache, layout, l, s.decodeTokens(), s.splits(), s.chunk(), partial.pointer(), b.attn);
                }
                if (s.prefillTiles() > 0) {
                    quantized.unpack(b.seqLast, b.pos, b.windowStart, b.cache, layout, l, s.prefillSequences(), s.span(), b.kvRows);
                    attendPrefill(b, s, b.kvRows, 0, s.span());
                }
            }
            device.gemmAdd(w.o(), b.attn, b.x, h, c.qDim(), total);
            device.normSwigluGemm(w.gateUp(), b.x, w.postNorm(), eps, b.xn, b.gateUp, b.act, inter, h, total);
            device.gemmAdd(w.down(), b.act, b.x, h, inter, total);
        }
        device.launch("rmsnorm_rows_half", s.rows(), 1, THREADS, b.x, b.pickedRows, finalNorm, b.picked, h, eps);
        device.gemm(lmHead, b.picked, b.logits, c.vocabSize(), h, s.rows());
    }

    /**
     * Decode attention: splits long contexts into chunks when (tokens x KV heads) alone would leave most
     * multiprocessors idle (decode at small batch), then merges the chunks.
     */
    private void attend(Scratch b, StepShape s, int layer) {
        ModelConfig c = config;
        int heads = c.numHeads();
        int d = c.headDim();
        device.launch("attend_f16", new int[] {s.decodeTokens(), c.numKvHeads(), s.splits()}, 128, b.q, c.qDim() + 2 * c.kvDim(), b.pos, b.cache, layer,
                heads, c.numKvHeads(), d, s.chunk(), s.splits() > 1 ? partial.pointer() : b.attn, b.attn);
        if (s.splits() > 1) {
            device.launch("attend_combine", s.decodeTokens(), heads, d, partial.pointer(), s.splits(), heads, d, b.attn);
        }
    }

    /**
     * Prefill attention over fp16 rows {@code [kvHead][positions][headDim]} starting {@code layerOffset} halves into
     * what each token's address in {@code rows} leads to: with {@code cap} 0, the pages of the fp16 caches
     * themselves (the addresses are their page tables); else a 2-bit step's decoded rows, {@code cap} positions.
     */
    private void attendPrefill(Scratch b, StepShape s, Pointer rows, long layerOffset, int cap) {
        ModelConfig c = config;
        device.launch("attend_prefill_" + c.headDim(), new int[] {s.prefillTiles(), c.numKvHeads(), 1}, Prefill.THREADS, b.q,
                c.qDim() + 2 * c.kvDim(), b.pos, rows, layerOffset, cap, c.numHeads(), c.numKvHeads(), b.tiles, b.attn);
    }

    /** Device memory for a 2-bit prefill step's decoded rows. */
    private Pointer unpackedRows(long need) {
        unpacked.grow(need);
        return unpacked.pointer();
    }

    private void ensurePartial(long need) {
        if (partial.grow(need)) {
            dropGraphs();
        }
    }

    private void validate(LlamaModel.Step s) {
        if (!(s.cache() instanceof CudaCache cache)) {
            throw new IllegalArgumentException("the CUDA backend needs caches from CudaLlamaModel.newCache or CudaRotateKv.newCache, got "
                    + s.cache().getClass().getSimpleName());
        }
        if (s.tokens().length == 0) {
            throw new IllegalArgumentException("a step needs at least one token");
        }
        for (int id : s.tokens()) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int end = cache.length() + s.tokens().length;
        if (end > cache.capacity()) {
            throw new IllegalArgumentException("sequence of " + end + " tokens exceeds its cache's capacity of " + cache.capacity());
        }
    }

    /** Graphs point at the scratch and partial buffers: they go when those are reallocated. */
    private void dropGraphs() {
        captured.values().forEach(CudaDevice.Graph::close);
        captured.clear();
    }

    /**
     * Whether decode steps (one token per sequence) run as captured CUDA graphs, replaying a step's
     * launches with one call (on by default; {@code -Dspillway.cuda.graphs=false} turns it off).
     */
    public synchronized void useGraphs(boolean on) {
        dropGraphs();
        graphs = on;
    }

    /** Decode-step graphs captured and kept now. */
    synchronized int capturedGraphs() {
        return captured.size();
    }

    @Override
    public void close() {
        dropGraphs();
        if (scratch != null) {
            scratch.free();
        }
        device.close();
    }
}
