package io.spillway.engine.model;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;

import java.nio.file.Path;

/**
 * Rotary position embedding parameters, read from either layout real checkpoints use: transformers 5's
 * {@code rope_parameters} object, or the older top-level {@code rope_theta} plus {@code rope_scaling}.
 *
 * @param type                 {@code default}, {@code linear} or {@code llama3}
 * @param factor               scaling factor ({@code linear}, {@code llama3}); 1 otherwise
 * @param lowFreqFactor        {@code llama3} only
 * @param highFreqFactor       {@code llama3} only
 * @param originalMaxPositions {@code llama3} only: the pre-training context length
 */
public record RopeConfig(double theta, String type, double factor, double lowFreqFactor, double highFreqFactor,
                         int originalMaxPositions) {

    public static RopeConfig plain(double theta) {
        return new RopeConfig(theta, "default", 1, 0, 0, 0);
    }

    static RopeConfig parse(Path file, JsonNode config) {
        JsonNode params = config.get("rope_parameters");
        if (params != null && !params.isNull()) {
            if (!params.isObject()) {
                throw new CheckpointException(file, "rope_parameters", "expected an object, found " + params);
            }
            return fromScaling(file, "rope_parameters", params,
                    Json.optionalDouble(file, params, "rope_theta", 10000.0));
        }
        double theta = Json.optionalDouble(file, config, "rope_theta", 10000.0);
        JsonNode scaling = config.get("rope_scaling");
        if (scaling == null || scaling.isNull()) {
            return plain(theta);
        }
        if (!scaling.isObject()) {
            throw new CheckpointException(file, "rope_scaling", "expected an object, found " + scaling);
        }
        return fromScaling(file, "rope_scaling", scaling, theta);
    }

    private static RopeConfig fromScaling(Path file, String field, JsonNode node, double theta) {
        // Older checkpoints name the kind "type", newer ones "rope_type".
        String type = Json.optionalText(file, node, "rope_type", Json.optionalText(file, node, "type", "default"));
        if (!(theta > 0)) {
            throw new CheckpointException(file, field + ".rope_theta", "must be positive, found " + theta);
        }
        return switch (type) {
            case "default" -> plain(theta);
            case "linear" -> new RopeConfig(theta, type, positiveFactor(file, field, node), 1, 1, 0);
            case "llama3" -> new RopeConfig(theta, type, positiveFactor(file, field, node),
                    Json.optionalDouble(file, node, "low_freq_factor", 1.0),
                    Json.optionalDouble(file, node, "high_freq_factor", 4.0),
                    Json.requiredInt(file, node, "original_max_position_embeddings"));
            default -> throw new CheckpointException(file, field + ".rope_type",
                    "unsupported RoPE type '" + type + "' (supported: default, linear, llama3)");
        };
    }

    private static double positiveFactor(Path file, String field, JsonNode node) {
        double factor = Json.optionalDouble(file, node, "factor", Double.NaN);
        if (!(factor > 0)) {
            throw new CheckpointException(file, field + ".factor", "must be a positive number, found " + node.get("factor"));
        }
        return factor;
    }
}
