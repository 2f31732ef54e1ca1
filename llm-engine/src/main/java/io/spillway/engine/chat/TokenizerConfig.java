package io.spillway.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.CheckpointException;
import io.spillway.engine.model.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a chat template needs from {@code tokenizer_config.json}: the template, in older checkpoints,
 * and the special tokens templates print.
 *
 * @param chatTemplate the {@code chat_template} string, or the one named "default" of the list form
 * @param bosToken     {@code bos_token}, a string or an AddedToken object; "" when absent or null
 * @param eosToken     {@code eos_token}, likewise
 */
record TokenizerConfig(Optional<String> chatTemplate, String bosToken, String eosToken) {

    static final String FILE = "tokenizer_config.json";

    /** Reads {@code modelDir/tokenizer_config.json}; a missing file is an empty config. */
    static TokenizerConfig read(Path modelDir) {
        Path file = modelDir.resolve(FILE);
        if (!Files.exists(file)) {
            return new TokenizerConfig(Optional.empty(), "", "");
        }
        JsonNode root = Json.read(file);
        return new TokenizerConfig(
                chatTemplate(file, root.get("chat_template")),
                token(file, root, "bos_token"),
                token(file, root, "eos_token"));
    }

    private static Optional<String> chatTemplate(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (node.isTextual()) {
            return Optional.of(node.asText());
        }
        if (!node.isArray()) {
            throw new CheckpointException(file, "chat_template",
                    "expected a string or a list of {name, template} objects, found " + node.getNodeType());
        }
        List<String> names = new ArrayList<>();
        for (JsonNode entry : node) {
            String name = entry.path("name").asText(null);
            names.add(name);
            if ("default".equals(name)) {
                JsonNode template = entry.get("template");
                if (template == null || !template.isTextual()) {
                    throw new CheckpointException(file, "chat_template",
                            "the template named 'default' is not a string");
                }
                return Optional.of(template.asText());
            }
        }
        throw new CheckpointException(file, "chat_template", "no template named 'default' among " + names);
    }

    private static String token(Path file, JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return "";
        }
        if (node.isTextual()) {
            return node.asText();
        }
        JsonNode content = node.get("content");
        if (content != null && content.isTextual()) {
            return content.asText();
        }
        throw new CheckpointException(file, field, "expected a string or an AddedToken object with a 'content' string");
    }
}
