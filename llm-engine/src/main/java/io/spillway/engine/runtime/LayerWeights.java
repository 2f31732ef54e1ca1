package io.spillway.engine.runtime;

import io.spillway.engine.model.Checkpoint;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.model.Tensor;
import io.spillway.engine.tensor.WeightMatrix;

/** One decoder layer's weights. Biases exist only for checkpoints that have them (Qwen2's q/k/v). */
record LayerWeights(float[] inputNorm, WeightMatrix q, WeightMatrix k, WeightMatrix v, float[] qBias, float[] kBias,
                    float[] vBias, WeightMatrix o, float[] postNorm, WeightMatrix gate, WeightMatrix up,
                    WeightMatrix down) {

    static LayerWeights load(Checkpoint ckpt, ModelConfig c, int layer) {
        String p = "model.layers." + layer + ".";
        int h = c.hiddenSize();
        return new LayerWeights(
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

    static WeightMatrix matrix(Tensor t) {
        return new WeightMatrix(t);
    }

    /** Small vectors (norms, biases) are copied to fp32 once: they are read for every token. */
    static float[] vector(Tensor t) {
        float[] v = new float[(int) t.elements()];
        new WeightMatrix(t.data(), t.dtype(), 1, v.length).rowsToFloat(0, 1, v, 0);
        return v;
    }

    private static float[] bias(Checkpoint ckpt, String name, int n) {
        return ckpt.find(name).map(t -> vector(ckpt.require(name, n))).orElse(null);
    }
}
