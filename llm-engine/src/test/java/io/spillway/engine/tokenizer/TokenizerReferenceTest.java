package io.spillway.engine.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/** Against the outputs of HF tokenizers recorded in models/tiny-llama/reference.json. */
class TokenizerReferenceTest {

    private final Tokenizer tokenizer = TinyLlama.tokenizer();
    private final JsonNode reference = TinyLlama.readJson(TinyLlama.modelDir().resolve("reference.json"));

    @Test
    void promptsEncodeToTheReferenceIds() {
        for (JsonNode prompt : reference.get("prompts")) {
            assertThat(tokenizer.encode(prompt.get("text").asText(), true))
                    .as(prompt.get("text").asText())
                    .containsExactly(ids(prompt.get("input_ids")));
        }
    }

    @Test
    void promptIdsDecodeBackToThePromptText() {
        for (JsonNode prompt : reference.get("prompts")) {
            assertThat(tokenizer.decode(ids(prompt.get("input_ids")), true)).isEqualTo(prompt.get("text").asText());
        }
    }

    /** greedy_text is the decoding of the 32 generated ids alone, without the prompt. */
    @Test
    void greedyIdsDecodeToTheGreedyText() {
        for (JsonNode prompt : reference.get("prompts")) {
            assertThat(tokenizer.decode(ids(prompt.get("greedy_ids")), true))
                    .isEqualTo(prompt.get("greedy_text").asText());
        }
    }

    @Test
    void bosIsTheTemplateToken() {
        assertThat(tokenizer.bosId()).hasValue(reference.get("config").get("bos_token_id").asInt());
        assertThat(tokenizer.vocabSize()).isEqualTo(reference.get("config").get("vocab_size").asInt());
    }

    /**
     * The perplexity stream is BOS + tokens(doc) + EOS per document, and reference.json records its
     * length: every id of a megabyte of prose has to be right for the total to match.
     */
    @Test
    void validationSetHasTheReferenceTokenCount() {
        Path dataset = TinyLlama.repoRoot().resolve("datasets/tiny-llama-valid.json");
        List<String> documents = new ArrayList<>();
        StreamSupport.stream(TinyLlama.readJson(dataset).spliterator(), false)
                .forEach(doc -> documents.add(doc.asText()));

        long start = System.nanoTime();
        long total = 0;
        long chars = 0;
        for (String document : documents) {
            total += 1 + tokenizer.encode(document, false).length + 1;
            chars += document.length();
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("tokenizer: encoded %d documents, %d chars, %d tokens in %d ms%n",
                documents.size(), chars, total, millis);

        assertThat(total).isEqualTo(reference.get("tokens").get("valid").asLong());
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }
}
