package io.spillway.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The repository's test model, found from whatever directory the tests run in. */
final class TinyLlama {

    private static Tokenizer tokenizer;

    private TinyLlama() {
    }

    static Path repoRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isDirectory(dir.resolve("models/tiny-llama"))) {
                return dir;
            }
        }
        throw new IllegalStateException("no models/tiny-llama above " + Path.of("").toAbsolutePath());
    }

    static Path modelDir() {
        return repoRoot().resolve("models/tiny-llama");
    }

    static synchronized Tokenizer tokenizer() {
        if (tokenizer == null) {
            tokenizer = Tokenizer.load(modelDir());
        }
        return tokenizer;
    }

    static JsonNode readJson(Path file) {
        try {
            return new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
