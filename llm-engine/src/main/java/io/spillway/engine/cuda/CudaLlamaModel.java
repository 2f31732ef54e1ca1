package io.spillway.engine.cuda;

import io.spillway.engine.CheckpointException;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.model.Checkpoint;
import io.spillway.engine.model.DType;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.model.Tensor;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.runtime.Rope;
import io.spillway.engine.tensor.WeightMatrix;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.file.Path;
import java.util.List;

/**
 * The Llama decoder on a CUDA GPU: fp16 weights, cuBLAS GEMMs with fp32 accumulation, fp32
 * activations between the NVRTC-compiled kernels, and fp16 KV in {@link CudaKvCache}s. Same
 * {@link #forward} contract as the CPU {@link LlamaModel}: any mix of prefill chunks and decode tokens.
 */
public final class CudaLlamaModel implements Decoder {
    private static final int THREADS = 256;

    private final CudaDevice device;
    private final ModelConfig config;
    private final Pointer embedding;
    private final Pointer lmHead;
    private final Pointer finalNorm;
    private final Pointer invFreq;
    private final Layer[] layers;
    private Scratch scratch;

    private record Layer(Pointer inputNorm, Pointer q, Pointer k, Pointer v, Pointer qBias, Pointer kBias,
                         Pointer vBias, Pointer o, Pointer postNorm, Pointer gate, Pointer up, Pointer down) {
    }

    private CudaLlamaModel(CudaDevice device, Path dir, ModelConfig c, Checkpoint ckpt) {
        this.device = device;
        this.config = c;
        int h = c.hiddenSize();
        this.embedding = matrix(ckpt.require("model.embed_tokens.weight", c.vocabSize(), h));
        if (c.tieWordEmbeddings()) {
            this.lmHead = embedding;
        } else if (ckpt.find("lm_head.weight").isPresent()) {
            this.lmHead = matrix(ckpt.require("lm_head.weight", c.vocabSize(), h));
        } else {
            throw new CheckpointException(dir.resolve("config.json"), "tie_word_embeddings",
                    "is false but the checkpoint has no lm_head.weight");
        }
        this.finalNorm = vector(ckpt.require("model.norm.weight", h));
        this.invFreq = device.upload(Rope.inverseFrequencies(c.rope(), c.headDim()));
        this.layers = new Layer[c.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new Layer(
                    vector(ckpt.require(p + "input_layernorm.weight", h)),
                    matrix(ckpt.require(p + "self_attn.q_proj.weight", c.qDim(), h)),
                    matrix(ckpt.require(p + "self_attn.k_proj.weight", c.kvDim(), h)),
                    matrix(ckpt.require(p + "self_attn.v_proj.weight", c.kvDim(), h)),
                    bias(ckpt, p + "self_attn.q_proj.bias", c.qDim()),
                    bias(ckpt, p + "self_attn.k_proj.bias", c.kvDim()),
                    bias(ckpt, p + "self_attn.v_proj.bias", c.kvDim()),
                    matrix(ckpt.require(p + "self_attn.o_proj.weight", h, c.qDim())),
                    vector(ckpt.require(p + "post_attention_layernorm.weight", h)),
                    matrix(ckpt.require(p + "mlp.gate_proj.weight", c.intermediateSize(), h)),
                    matrix(ckpt.require(p + "mlp.up_proj.weight", c.intermediateSize(), h)),
                    matrix(ckpt.require(p + "mlp.down_proj.weight", h, c.intermediateSize())));
        }
        if (c.headDim() % 32 != 0 || c.headDim() > 256 || c.numHeads() % c.numKvHeads() != 0) {
            throw new IllegalArgumentException("the CUDA attention kernel needs head_dim a multiple of 32 up to 256, got "
                    + c.headDim());
        }
        device.synchronize();
    }

    /** Copies a Hugging Face model directory's weights to the GPU of {@code device}. */
    public static CudaLlamaModel load(CudaDevice device, Path dir) {
        ModelConfig config = ModelConfig.load(dir);
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            return new CudaLlamaModel(device, dir, config, ckpt);
        }
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    public CudaDevice device() {
        return device;
    }

    /** A cache for sequences of up to {@code capacity} tokens. */
    public CudaKvCache newCache(int capacity) {
        if (capacity < 1 || capacity > config.maxPositions()) {
            throw new IllegalArgumentException("cache capacity must be in [1, " + config.maxPositions() + "], got " + capacity);
        }
        return new CudaKvCache(device, config.numLayers(), config.kvDim(), capacity);
    }

    /** Weights go up as fp16 whatever the checkpoint's type: the GEMMs take fp16 on both sides. */
    private Pointer matrix(Tensor t) {
        long n = t.elements();
        Pointer out = device.alloc(2 * n);
        BytePointer host = new BytePointer(t.data().asByteBuffer());
        if (t.dtype() == DType.F16) {
            device.toDevice(out, host, 2 * n);
            return out;
        }
        Pointer raw = device.alloc(n * t.dtype().bytes());
        device.toDevice(raw, host, n * t.dtype().bytes());
        device.launch(t.dtype() == DType.BF16 ? "bf16_to_half" : "f32_to_half", blocks(n), 1, THREADS, raw, out, n);
        device.synchronize();
        device.free(raw);
        return out;
    }

    private Pointer vector(Tensor t) {
        float[] v = new float[(int) t.elements()];
        new WeightMatrix(t.data(), t.dtype(), 1, v.length).rowsToFloat(0, 1, v, 0);
        return device.upload(v);
    }

    private Pointer bias(Checkpoint ckpt, String name, int n) {
        return ckpt.find(name).map(t -> vector(ckpt.require(name, n))).orElse(null);
    }

    private static int blocks(long n) {
        return (int) Math.min((n + THREADS - 1) / THREADS, 65535);
    }

    /** Activation buffers sized for the largest step seen so far. */
    private final class Scratch {
        final int tokens;
        final int rows;
        final Pointer x, xn, q, k, v, attn, proj, gate, up, act, ids, pos, cache, picked, pickedRows, logits;

        Scratch(int tokens, int rows) {
            this.tokens = tokens;
            this.rows = rows;
            ModelConfig c = config;
            long t = tokens;
            x = device.alloc(4 * t * c.hiddenSize());
            xn = device.alloc(2 * t * c.hiddenSize());
            q = device.alloc(4 * t * c.qDim());
            k = device.alloc(4 * t * c.kvDim());
            v = device.alloc(4 * t * c.kvDim());
            attn = device.alloc(2 * t * c.qDim());
            proj = device.alloc(4 * t * c.hiddenSize());
            gate = device.alloc(4 * t * c.intermediateSize());
            up = device.alloc(4 * t * c.intermediateSize());
            act = device.alloc(2 * t * c.intermediateSize());
            ids = device.alloc(4 * t);
            pos = device.alloc(4 * t);
            cache = device.alloc(8 * t);
            picked = device.alloc(2L * rows * c.hiddenSize());
            pickedRows = device.alloc(4L * rows);
            logits = device.alloc(4L * rows * c.vocabSize());
        }

        void free() {
            for (Pointer p : List.of(x, xn, q, k, v, attn, proj, gate, up, act, ids, pos, cache, picked, pickedRows, logits)) {
                device.free(p);
            }
        }
    }

    private Scratch scratch(int tokens, int rows) {
        if (scratch == null || scratch.tokens < tokens || scratch.rows < rows) {
            if (scratch != null) {
                scratch.free();
            }
            scratch = new Scratch(Math.max(tokens, scratch == null ? 0 : scratch.tokens), Math.max(rows, scratch == null ? 0 : scratch.rows));
        }
        return scratch;
    }

    @Override
    public synchronized float[][] forward(List<LlamaModel.Step> steps) {
        int total = 0;
        int rows = 0;
        for (LlamaModel.Step s : steps) {
            validate(s);
            total += s.tokens().length;
            rows += s.allLogits() ? s.tokens().length : 1;
        }
        ModelConfig c = config;
        int h = c.hiddenSize();
        int[] ids = new int[total];
        int[] pos = new int[total];
        long[] cacheOf = new long[total];
        int[] picked = new int[rows];
        int t = 0;
        int r = 0;
        int capacity = ((CudaKvCache) steps.getFirst().cache()).capacity();
        for (LlamaModel.Step s : steps) {
            CudaKvCache cache = (CudaKvCache) s.cache();
            if (cache.capacity() != capacity) {
                throw new IllegalArgumentException("caches of one forward step must share their capacity");
            }
            int n = s.tokens().length;
            for (int i = 0; i < n; i++, t++) {
                ids[t] = s.tokens()[i];
                pos[t] = cache.length() + i;
                cacheOf[t] = cache.address();
                if (s.allLogits() || i == n - 1) {
                    picked[r++] = t;
                }
            }
        }
        Scratch b = scratch(total, rows);
        device.uploadInts(b.ids, ids);
        device.uploadInts(b.pos, pos);
        device.uploadLongs(b.cache, cacheOf);
        device.uploadInts(b.pickedRows, picked);
        float eps = (float) c.rmsNormEps();
        int heads = c.numHeads();
        int kvHeads = c.numKvHeads();
        int d = c.headDim();
        int inter = c.intermediateSize();
        device.launch("embed", total, 1, THREADS, embedding, b.ids, b.x, h);
        for (int l = 0; l < layers.length; l++) {
            Layer w = layers[l];
            device.launch("rmsnorm_half", total, 1, THREADS, b.x, w.inputNorm(), b.xn, h, eps);
            project(w.q(), w.qBias(), b.xn, b.q, c.qDim(), h, total);
            project(w.k(), w.kBias(), b.xn, b.k, c.kvDim(), h, total);
            project(w.v(), w.vBias(), b.xn, b.v, c.kvDim(), h, total);
            device.launch("rope_store", total, 1, THREADS, b.q, b.k, b.v, invFreq, b.pos, b.cache, l, capacity, heads, kvHeads, d);
            device.launch("attend_f16", total, heads, 128, b.q, b.pos, b.cache, l, capacity, heads, kvHeads, d, b.attn);
            device.gemm(w.o(), b.attn, b.proj, h, c.qDim(), total);
            device.launch("add_inplace", blocks((long) total * h), 1, THREADS, b.x, b.proj, (long) total * h);
            device.launch("rmsnorm_half", total, 1, THREADS, b.x, w.postNorm(), b.xn, h, eps);
            device.gemm(w.gate(), b.xn, b.gate, inter, h, total);
            device.gemm(w.up(), b.xn, b.up, inter, h, total);
            device.launch("silu_mul_half", blocks((long) total * inter), 1, THREADS, b.gate, b.up, b.act, (long) total * inter);
            device.gemm(w.down(), b.act, b.proj, h, inter, total);
            device.launch("add_inplace", blocks((long) total * h), 1, THREADS, b.x, b.proj, (long) total * h);
        }
        device.launch("rmsnorm_rows_half", rows, 1, THREADS, b.x, b.pickedRows, finalNorm, b.picked, h, eps);
        int vocab = c.vocabSize();
        device.gemm(lmHead, b.picked, b.logits, vocab, h, rows);
        float[] all = new float[rows * vocab];
        device.download(all, b.logits, (long) rows * vocab);
        for (LlamaModel.Step s : steps) {
            s.cache().commit(s.tokens().length);
        }
        float[][] out = new float[steps.size()][];
        r = 0;
        for (int i = 0; i < steps.size(); i++) {
            int n = steps.get(i).allLogits() ? steps.get(i).tokens().length : 1;
            out[i] = java.util.Arrays.copyOfRange(all, r * vocab, (r + n) * vocab);
            r += n;
        }
        return out;
    }

    private void project(Pointer w, Pointer bias, Pointer in, Pointer out, int rows, int cols, int tokens) {
        device.gemm(w, in, out, rows, cols, tokens);
        if (bias != null) {
            long n = (long) tokens * rows;
            device.launch("add_bias", blocks(n), 1, THREADS, out, bias, rows, n);
        }
    }

    private void validate(LlamaModel.Step s) {
        if (!(s.cache() instanceof CudaKvCache cache)) {
            throw new IllegalArgumentException("the CUDA backend needs caches from CudaLlamaModel.newCache, got "
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

    @Override
    public void close() {
        if (scratch != null) {
            scratch.free();
        }
        device.close();
    }
}
