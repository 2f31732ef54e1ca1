package io.spillway.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;
import io.spillway.engine.model.Json;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A JSON value together with the file it came from and its dotted path in that file, so that
 * every format error can name both (e.g. {@code tokenizer.json: field 'model.type'}).
 */
record JsonField(Path file, String path, JsonNode node) {

    /** Reads a whole JSON file; its root must be an object. */
    static JsonField read(Path file) {
        return new JsonField(file, "", Json.read(file));
    }

    JsonField get(String name) {
        String childPath = path.isEmpty() ? name : path + "." + name;
        return new JsonField(file, childPath, isAbsent() ? null : node.get(name));
    }

    /** True when the field is missing or JSON null: the format treats both the same. */
    boolean isAbsent() {
        return node == null || node.isNull();
    }

    String text() {
        if (isAbsent() || !node.isTextual()) {
            throw fail(isAbsent() ? "missing" : "expected a string, got " + node.getNodeType());
        }
        return node.textValue();
    }

    boolean bool(boolean defaultValue) {
        if (isAbsent()) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw fail("expected true or false, got " + node);
        }
        return node.booleanValue();
    }

    int integer() {
        if (isAbsent() || !node.canConvertToInt() || !node.isIntegralNumber()) {
            throw fail(isAbsent() ? "missing" : "expected an int, got " + node);
        }
        return node.intValue();
    }

    /** The {@code type} discriminator that tokenizer.json puts on every component. */
    String type() {
        return get("type").text();
    }

    List<JsonField> elements() {
        if (isAbsent() || !node.isArray()) {
            throw fail(isAbsent() ? "missing" : "expected an array, got " + node.getNodeType());
        }
        List<JsonField> out = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
            out.add(new JsonField(file, path + "[" + i + "]", node.get(i)));
        }
        return out;
    }

    /** The members of an object, in file order. */
    Map<String, JsonField> members() {
        if (isAbsent() || !node.isObject()) {
            throw fail(isAbsent() ? "missing" : "expected an object, got " + node.getNodeType());
        }
        Map<String, JsonField> out = new LinkedHashMap<>();
        node.properties().forEach(e -> out.put(e.getKey(), get(e.getKey())));
        return out;
    }

    CheckpointException fail(String message) {
        return new CheckpointException(file, path, message);
    }
}
