package io.spillway.engine.eval;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.model.Json;
import io.spillway.engine.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** An evaluation text: a JSON list of documents, and the token stream the perplexity protocol builds from it. */
public final class Documents {
    private Documents() {
    }

    public static List<String> read(Path file) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(Files.readString(file));
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": file not found");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (root == null || !root.isArray()) {
            throw new IllegalArgumentException(file + ": expected a JSON list of document strings");
        }
        List<String> docs = new ArrayList<>();
        for (int i = 0; i < root.size(); i++) {
            if (!root.get(i).isTextual()) {
                throw new IllegalArgumentException(file + ": element " + i + " is not a string");
            }
            docs.add(root.get(i).asText());
        }
        return docs;
    }

    /** For each document: BOS, its tokens, EOS; all concatenated. */
    public static int[] tokenStream(List<String> docs, Tokenizer tokenizer, int bos, int eos) {
        List<int[]> encoded = docs.parallelStream().map(d -> tokenizer.encode(d, false)).toList();
        int total = 0;
        for (int[] e : encoded) {
            total += e.length + 2;
        }
        int[] stream = new int[total];
        int at = 0;
        for (int[] e : encoded) {
            stream[at++] = bos;
            System.arraycopy(e, 0, stream, at, e.length);
            at += e.length;
            stream[at++] = eos;
        }
        return stream;
    }
}
