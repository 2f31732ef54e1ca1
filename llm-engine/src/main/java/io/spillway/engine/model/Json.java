package io.spillway.engine.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.engine.CheckpointException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Reads checkpoint JSON files and their fields, turning every problem into a {@link CheckpointException}. */
public final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static JsonNode read(Path file) {
        try {
            return parse(file, Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file, "file not found");
        } catch (IOException e) {
            throw new CheckpointException(file, "cannot read: " + e.getMessage(), e);
        }
    }

    public static JsonNode parse(Path file, String text) {
        try {
            JsonNode node = MAPPER.readTree(text);
            if (node == null || !node.isObject()) {
                throw new CheckpointException(file, "expected a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new CheckpointException(file, "malformed JSON at line " + e.getLocation().getLineNr()
                    + ", column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
    }

    public static int requiredInt(Path file, JsonNode node, String field) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            throw new CheckpointException(file, field, "missing");
        }
        if (!v.canConvertToExactIntegral() || !v.canConvertToInt()) {
            throw new CheckpointException(file, field, "expected an integer, found " + v);
        }
        return v.asInt();
    }

    public static int optionalInt(Path file, JsonNode node, String field, int fallback) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? fallback : requiredInt(file, node, field);
    }

    public static double optionalDouble(Path file, JsonNode node, String field, double fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber()) {
            throw new CheckpointException(file, field, "expected a number, found " + v);
        }
        return v.asDouble();
    }

    public static boolean optionalBoolean(Path file, JsonNode node, String field, boolean fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw new CheckpointException(file, field, "expected true or false, found " + v);
        }
        return v.asBoolean();
    }

    public static String optionalText(Path file, JsonNode node, String field, String fallback) {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isTextual()) {
            throw new CheckpointException(file, field, "expected a string, found " + v);
        }
        return v.asText();
    }
}
