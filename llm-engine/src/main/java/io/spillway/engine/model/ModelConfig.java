package io.spillway.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;

import java.nio.file.Path;
import java.util.Set;

/** The architecture hyper-parameters of a Llama-family checkpoint, from its {@code config.json}. */
public record ModelConfig(String architecture, int hiddenSize, int intermediateSize, int numLayers, int numHeads,
                          int numKvHeads, int headDim, int vocabSize, int maxPositions, double rmsNormEps,
                          boolean tieWordEmbeddings, RopeConfig rope, int bosTokenId, int eosTokenId) {

    /** Decoder-only architectures whose forward pass is the Llama one (Qwen2 adds q/k/v biases, found by name). */
    public static final Set<String> SUPPORTED = Set.of(
            "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM");

    /**
     * The same model run past its trained context, for measurements whose speed does not depend on
     * output quality (RoPE is defined at every position).
     */
    public ModelConfig withMaxPositions(int positions) {
        return new ModelConfig(architecture, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, vocabSize,
                positions, rmsNormEps, tieWordEmbeddings, rope, bosTokenId, eosTokenId);
    }

    public static ModelConfig load(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        return parse(file, Json.read(file));
    }

    static ModelConfig parse(Path file, JsonNode node) {
        String architecture = architecture(file, node);
        String act = Json.optionalText(file, node, "hidden_act", "silu");
        if (!act.equals("silu")) {
            throw new CheckpointException(file, "hidden_act", "unsupported activation '" + act + "' (supported: silu)");
        }
        int hidden = positive(file, node, "hidden_size");
        int heads = positive(file, node, "num_attention_heads");
        int kvHeads = Json.optionalInt(file, node, "num_key_value_heads", heads);
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new CheckpointException(file, "num_key_value_heads",
                    "must divide num_attention_heads (" + heads + "), found " + kvHeads);
        }
        if (hidden % heads != 0 && !node.hasNonNull("head_dim")) {
            throw new CheckpointException(file, "head_dim", "missing, and hidden_size is not a multiple of num_attention_heads");
        }
        int headDim = Json.optionalInt(file, node, "head_dim", hidden / heads);
        if (headDim <= 0 || headDim % 2 != 0) {
            throw new CheckpointException(file, "head_dim", "must be a positive even number, found " + headDim);
        }
        // Llama's default is untied; Mistral and Qwen2 say so explicitly when they tie.
        boolean tied = Json.optionalBoolean(file, node, "tie_word_embeddings", false);
        return new ModelConfig(architecture, hidden, positive(file, node, "intermediate_size"),
                positive(file, node, "num_hidden_layers"), heads, kvHeads, headDim,
                positive(file, node, "vocab_size"), Json.optionalInt(file, node, "max_position_embeddings", 4096),
                Json.optionalDouble(file, node, "rms_norm_eps", 1e-6), tied, RopeConfig.parse(file, node),
                firstId(file, node, "bos_token_id"), firstId(file, node, "eos_token_id"));
    }

    private static String architecture(Path file, JsonNode node) {
        JsonNode archs = node.get("architectures");
        if (archs == null || !archs.isArray() || archs.isEmpty() || !archs.get(0).isTextual()) {
            throw new CheckpointException(file, "architectures", "missing: expected e.g. [\"LlamaForCausalLM\"]");
        }
        String arch = archs.get(0).asText();
        if (!SUPPORTED.contains(arch)) {
            throw new CheckpointException(file, "architectures",
                    "unsupported architecture '" + arch + "' (supported: " + String.join(", ", SUPPORTED.stream().sorted().toList()) + ")");
        }
        return arch;
    }

    private static int positive(Path file, JsonNode node, String field) {
        int v = Json.requiredInt(file, node, field);
        if (v <= 0) {
            throw new CheckpointException(file, field, "must be positive, found " + v);
        }
        return v;
    }

    /** Token-id fields may be an int, a list of ints (Llama-3.1 instruct) or null; -1 means none. */
    private static int firstId(Path file, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return -1;
        }
        if (v.isArray() && !v.isEmpty() && v.get(0).canConvertToInt()) {
            return v.get(0).asInt();
        }
        if (v.canConvertToExactIntegral()) {
            return v.asInt();
        }
        throw new CheckpointException(file, field, "expected an integer or a list of integers, found " + v);
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    public int qDim() {
        return numHeads * headDim;
    }
}
