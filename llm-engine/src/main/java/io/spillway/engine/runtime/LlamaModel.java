package io.spillway.engine.runtime;

import io.spillway.engine.CheckpointException;
import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.kv.LayerRows;
import io.spillway.engine.model.Checkpoint;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.tensor.Parallel;
import io.spillway.engine.tensor.VectorMath;
import io.spillway.engine.tensor.WeightMatrix;

import java.nio.file.Path;
import java.util.List;

/**
 * A Llama-family decoder on the CPU: fp32 arithmetic over weights read in place from the
 * memory-mapped checkpoint. One {@link #forward} call runs a batch of sequences of any mix of
 * prefill chunks and single decode tokens: their tokens go through every matmul together.
 */
public final class LlamaModel implements Decoder {
    private final Path dir;
    private final ModelConfig config;
    private final Checkpoint checkpoint;
    private final WeightMatrix embeddingMatrix;
    private final LayerWeights[] layers;
    private final float[] finalNorm;
    private final WeightMatrix lmHead;
    private final Rope rope;
    private final KvLayout kvLayout;
    private final String fingerprint;

    private LlamaModel(Path dir, ModelConfig config, Checkpoint ckpt) {
        this.dir = dir;
        this.config = config;
        this.checkpoint = ckpt;
        int h = config.hiddenSize();
        this.embeddingMatrix = LayerWeights.matrix(ckpt.require("model.embed_tokens.weight", config.vocabSize(), h));
        this.layers = new LayerWeights[config.numLayers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = LayerWeights.load(ckpt, config, l);
        }
        this.finalNorm = LayerWeights.vector(ckpt.require("model.norm.weight", h));
        if (config.tieWordEmbeddings()) {
            this.lmHead = embeddingMatrix;
        } else if (ckpt.find("lm_head.weight").isPresent()) {
            this.lmHead = LayerWeights.matrix(ckpt.require("lm_head.weight", config.vocabSize(), h));
        } else {
            throw new CheckpointException(dir.resolve("config.json"), "tie_word_embeddings",
                    "is false but the checkpoint has no lm_head.weight");
        }
        this.rope = new Rope(config.rope(), config.headDim(), config.maxPositions());
        this.kvLayout = KvLayout.of(config);
        this.fingerprint = ckpt.fingerprint();
    }

    /** Loads {@code config.json} and the safetensors weights of a Hugging Face model directory. */
    public static LlamaModel load(Path dir) {
        return load(dir, ModelConfig.load(dir));
    }

    /** Loads the weights of {@code dir} under {@code config} (e.g. a longer context, see {@link ModelConfig#withMaxPositions}). */
    public static LlamaModel load(Path dir, ModelConfig config) {
        Checkpoint ckpt = Checkpoint.open(dir);
        try {
            return new LlamaModel(dir, config, ckpt);
        } catch (RuntimeException e) {
            ckpt.close();
            throw e;
        }
    }

    public Path dir() {
        return dir;
    }

    @Override
    public ModelConfig config() {
        return config;
    }

    /** Identifies these weights in calibrations and spilled caches. */
    public String fingerprint() {
        return fingerprint;
    }

    public Rope rope() {
        return rope;
    }

    public KvLayout kvLayout() {
        return kvLayout;
    }

    public KvCache newCache(DenseKvCache.Precision precision) {
        return new DenseKvCache(kvLayout, rope, precision, DenseKvCache.DEFAULT_BLOCK);
    }

    /**
     * New tokens for one sequence in a batched step.
     *
     * @param allLogits logits for every token (perplexity) instead of only the last (generation)
     */
    public record Step(KvCache cache, int[] tokens, boolean allLogits) {
    }

    /**
     * Appends each step's tokens to its cache and returns, per step, the logits of its last token
     * ({@code vocab} floats) or of all its tokens ({@code tokens * vocab} floats, token-major).
     */
    @Override
    public synchronized float[][] forward(List<Step> steps) {
        int total = 0;
        for (Step s : steps) {
            validate(s);
            total += s.tokens().length;
        }
        int h = config.hiddenSize();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int d = config.headDim();
        int heads = config.numHeads();
        int[] position = new int[total];
        KvCache[] cacheOf = new KvCache[total];
        float[] x = new float[total * h];
        int t = 0;
        for (Step s : steps) {
            for (int i = 0; i < s.tokens().length; i++, t++) {
                position[t] = s.cache().length() + i;
                cacheOf[t] = s.cache();
                embeddingMatrix.rowsToFloat(s.tokens()[i], 1, x, t * h);
            }
        }
        float[] xn = new float[total * h];
        float[] q = new float[total * qDim];
        float[] k = new float[total * kvDim];
        float[] v = new float[total * kvDim];
        float[] attn = new float[total * qDim];
        float[] proj = new float[total * h];
        float[] gate = new float[total * config.intermediateSize()];
        float[] up = new float[total * config.intermediateSize()];
        float eps = (float) config.rmsNormEps();
        int[] offsets = stepOffsets(steps);
        for (int l = 0; l < layers.length; l++) {
            LayerWeights w = layers[l];
            VectorMath.rmsNorm(x, w.inputNorm(), eps, xn, total);
            project(w.q(), w.qBias(), xn, total, q);
            project(w.k(), w.kBias(), xn, total, k);
            project(w.v(), w.vBias(), xn, total, v);
            for (int i = 0; i < total; i++) {
                rope.rotate(q, i * qDim, heads, position[i]);
            }
            int layer = l;
            LayerRows rows = new LayerRows(q, qDim, k, v, kvDim, x, h);
            Parallel.forEach(steps.size(), si -> {
                Step s = steps.get(si);
                s.cache().write(layer, rows, offsets[si], s.tokens().length);
                s.cache().prepare(layer);
            });
            int n = total;
            Parallel.forEach(n * heads, idx -> {
                int tok = idx / heads;
                int off = tok * qDim + (idx % heads) * d;
                cacheOf[tok].attend(layer, idx % heads, q, off, position[tok], attn, off);
            });
            w.o().matmul(attn, total, proj);
            VectorMath.add(x, proj);
            VectorMath.rmsNorm(x, w.postNorm(), eps, xn, total);
            w.gate().matmul(xn, total, gate);
            w.up().matmul(xn, total, up);
            VectorMath.siluMul(gate, up, gate.length);
            w.down().matmul(gate, total, proj);
            VectorMath.add(x, proj);
        }
        for (Step s : steps) {
            s.cache().commit(s.tokens().length);
        }
        return logits(steps, x);
    }

    private float[][] logits(List<Step> steps, float[] x) {
        int h = config.hiddenSize();
        int vocab = config.vocabSize();
        int rows = 0;
        for (Step s : steps) {
            rows += s.allLogits() ? s.tokens().length : 1;
        }
        float[] picked = new float[rows * h];
        int r = 0;
        int t = 0;
        for (Step s : steps) {
            int n = s.tokens().length;
            int from = s.allLogits() ? 0 : n - 1;
            System.arraycopy(x, (t + from) * h, picked, r * h, (n - from) * h);
            r += n - from;
            t += n;
        }
        VectorMath.rmsNorm(picked, finalNorm, (float) config.rmsNormEps(), picked, rows);
        float[] all = new float[rows * vocab];
        lmHead.matmul(picked, rows, all);
        float[][] out = new float[steps.size()][];
        r = 0;
        for (int i = 0; i < steps.size(); i++) {
            int n = steps.get(i).allLogits() ? steps.get(i).tokens().length : 1;
            out[i] = java.util.Arrays.copyOfRange(all, r * vocab, (r + n) * vocab);
            r += n;
        }
        return out;
    }

    private static int[] stepOffsets(List<Step> steps) {
        int[] off = new int[steps.size()];
        for (int i = 1; i < off.length; i++) {
            off[i] = off[i - 1] + steps.get(i - 1).tokens().length;
        }
        return off;
    }

    private static void project(WeightMatrix w, float[] bias, float[] in, int tokens, float[] out) {
        w.matmul(in, tokens, out);
        if (bias != null) {
            for (int t = 0; t < tokens; t++) {
                VectorMath.axpy(1f, bias, 0, out, t * bias.length, bias.length);
            }
        }
    }

    private void validate(Step s) {
        if (s.tokens().length == 0) {
            throw new IllegalArgumentException("a step needs at least one token");
        }
        for (int id : s.tokens()) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
        int end = s.cache().length() + s.tokens().length;
        if (end > config.maxPositions()) {
            throw new IllegalArgumentException("sequence of " + end + " tokens exceeds the model's context of "
                    + config.maxPositions() + " (max_position_embeddings)");
        }
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
