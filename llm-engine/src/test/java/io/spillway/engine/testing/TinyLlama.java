package io.spillway.engine.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.model.Json;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the tiny-llama model and the validation text shipped in the repository. */
public final class TinyLlama {
    private TinyLlama() {
    }

    public static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("models/tiny-llama"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("models/tiny-llama not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    public static Path modelDir() {
        return repoRoot().resolve("models/tiny-llama");
    }

    public static Path validationText() {
        return repoRoot().resolve("datasets/tiny-llama-valid.json");
    }

    public static JsonNode reference() {
        return Json.read(modelDir().resolve("reference.json"));
    }

    public static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
