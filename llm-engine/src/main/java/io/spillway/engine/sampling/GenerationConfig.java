package io.spillway.engine.sampling;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;
import io.spillway.engine.model.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * A model's generation defaults from {@code generation_config.json}: the tokens that end a
 * generation, and the sampling settings its authors recommend. Settings the file does not give are
 * empty, not HF's class defaults (top_k 50, do_sample false), as vLLM does: they were not chosen
 * for the model.
 *
 * @param eosTokenIds       tokens that end generation ({@code eos_token_id}, an int or a list)
 * @param bosTokenId        {@code bos_token_id}
 * @param temperature       {@code temperature}
 * @param topK              {@code top_k}
 * @param topP              {@code top_p}
 * @param minP              {@code min_p}
 * @param repetitionPenalty {@code repetition_penalty}
 * @param doSample          {@code do_sample}: false means greedy whatever the temperature
 */
public record GenerationConfig(
        List<Integer> eosTokenIds,
        OptionalInt bosTokenId,
        OptionalDouble temperature,
        OptionalInt topK,
        OptionalDouble topP,
        OptionalDouble minP,
        OptionalDouble repetitionPenalty,
        Optional<Boolean> doSample) {

    static final String FILE = "generation_config.json";
    static final String MODEL_CONFIG = "config.json";

    public GenerationConfig {
        eosTokenIds = List.copyOf(eosTokenIds);
    }

    /**
     * Reads {@code modelDir/generation_config.json}. Token ids it lacks, or all of them when the file
     * is missing, come from {@code config.json}, as transformers takes them from the model config.
     * Without either file the config is empty.
     *
     * @throws CheckpointException when a file is not valid JSON or a field has the wrong type or range
     */
    public static GenerationConfig load(Path modelDir) {
        Fields gen = Fields.read(modelDir.resolve(FILE));
        Fields cfg = Fields.read(modelDir.resolve(MODEL_CONFIG));

        List<Integer> eos = gen.tokenIds("eos_token_id");
        if (eos.isEmpty()) {
            eos = cfg.tokenIds("eos_token_id");
        }
        OptionalInt bos = gen.tokenId("bos_token_id");
        if (bos.isEmpty()) {
            bos = cfg.tokenId("bos_token_id");
        }
        return new GenerationConfig(eos, bos,
                gen.number("temperature", 0, Double.MAX_VALUE, true),
                gen.integer("top_k"),
                gen.number("top_p", 0, 1, false),
                gen.number("min_p", 0, 1, true),
                gen.number("repetition_penalty", 0, Double.MAX_VALUE, false),
                gen.bool("do_sample"));
    }

    /** Whether {@code token} ends a generation. */
    public boolean isEos(int token) {
        return eosTokenIds.contains(token);
    }

    /**
     * {@code params} with the settings this config gives put in place; {@code do_sample: false}
     * makes it greedy. Request-level settings are applied after this, by the caller.
     */
    public SamplingParams applyTo(SamplingParams params) {
        SamplingParams p = params;
        if (temperature.isPresent()) {
            p = p.withTemperature(temperature.getAsDouble());
        }
        if (topK.isPresent()) {
            p = p.withTopK(topK.getAsInt());
        }
        if (topP.isPresent()) {
            p = p.withTopP(topP.getAsDouble());
        }
        if (minP.isPresent()) {
            p = p.withMinP(minP.getAsDouble());
        }
        if (repetitionPenalty.isPresent()) {
            p = p.withRepetitionPenalty(repetitionPenalty.getAsDouble());
        }
        return doSample.orElse(true) ? p : p.withTemperature(0);
    }

    /** Typed access to the optional fields of one file; null and absent are the same. */
    private record Fields(Path file, JsonNode root) {

        /** The fields of a JSON file; none when the file does not exist. */
        static Fields read(Path file) {
            if (!Files.exists(file)) {
                return new Fields(file, null);
            }
            return new Fields(file, Json.read(file));
        }

        private JsonNode get(String field) {
            JsonNode node = root == null ? null : root.get(field);
            return node == null || node.isNull() ? null : node;
        }

        List<Integer> tokenIds(String field) {
            JsonNode node = get(field);
            if (node == null) {
                return List.of();
            }
            if (!node.isArray()) {
                return List.of(tokenId(field, node));
            }
            List<Integer> ids = new ArrayList<>();
            for (JsonNode element : node) {
                ids.add(tokenId(field, element));
            }
            return ids;
        }

        OptionalInt tokenId(String field) {
            JsonNode node = get(field);
            return node == null ? OptionalInt.empty() : OptionalInt.of(tokenId(field, node));
        }

        private int tokenId(String field, JsonNode node) {
            if (!node.canConvertToExactIntegral() || !node.canConvertToInt() || node.asInt() < 0) {
                throw new CheckpointException(file, field,
                        "expected a token id (an integer >= 0) or a list of them, found " + node);
            }
            return node.asInt();
        }

        OptionalInt integer(String field) {
            JsonNode node = get(field);
            if (node == null) {
                return OptionalInt.empty();
            }
            if (!node.canConvertToExactIntegral() || !node.canConvertToInt() || node.asInt() < 0) {
                throw new CheckpointException(file, field, "expected an integer >= 0, found " + node);
            }
            return OptionalInt.of(node.asInt());
        }

        OptionalDouble number(String field, double min, double max, boolean minIncluded) {
            JsonNode node = get(field);
            if (node == null) {
                return OptionalDouble.empty();
            }
            double value = node.asDouble();
            if (!node.isNumber() || !(minIncluded ? value >= min : value > min) || value > max) {
                throw new CheckpointException(file, field, "expected a number in " + (minIncluded ? "[" : "(")
                        + min + ", " + (max == Double.MAX_VALUE ? "inf)" : max + "]") + ", found " + node);
            }
            return OptionalDouble.of(value);
        }

        Optional<Boolean> bool(String field) {
            JsonNode node = get(field);
            if (node == null) {
                return Optional.empty();
            }
            if (!node.isBoolean()) {
                throw new CheckpointException(file, field, "expected true or false, found " + node);
            }
            return Optional.of(node.asBoolean());
        }
    }
}
