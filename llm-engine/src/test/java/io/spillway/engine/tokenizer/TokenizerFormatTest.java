package io.spillway.engine.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.engine.CheckpointException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Variants of tiny-llama's tokenizer.json, written to a temporary model directory. */
class TokenizerFormatTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
    private static final String SAMPLE = "Call me Ishmael.  Some years ago—never mind how long\n\n\tprecisely—I'll go 1812 times! 👍🏽";

    private final Tokenizer original = TinyLlama.tokenizer();

    @TempDir
    Path dir;

    @Test
    void missingFileNamesTheFile() {
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("tokenizer.json").toString());
    }

    @Test
    void malformedJsonNamesTheFile() throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\",");
        assertThatThrownBy(() -> Tokenizer.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("malformed JSON");
    }

    @Test
    void unsupportedComponentsNameTheField() throws IOException {
        assertRejected(json -> ((ObjectNode) json.get("model")).put("type", "Unigram"), "model.type");
        assertRejected(json -> ((ObjectNode) json.get("model")).remove("vocab"), "model.vocab");
        assertRejected(json -> json.set("normalizer", component("NFKC")), "normalizer.type");
        assertRejected(json -> json.set("pre_tokenizer", component("Whitespace")), "pre_tokenizer.type");
        assertRejected(json -> ((ArrayNode) json.get("pre_tokenizer").get("pretokenizers")).insert(0, component("Digits")),
                "pre_tokenizer.pretokenizers[0].type");
        assertRejected(json -> json.set("decoder", component("WordPiece")), "decoder.type");
        assertRejected(json -> json.set("post_processor", component("BertProcessing")), "post_processor.type");
        assertRejected(json -> ((ArrayNode) json.get("model").get("merges")).insertArray(0).add("Ġ").add("no-such-token"),
                "model.merges[0]");
    }

    @Test
    void mergesInTheOldStringFormEncodeTheSame() throws IOException {
        Tokenizer legacy = load(json -> {
            ArrayNode strings = JSON.arrayNode();
            json.get("model").get("merges").forEach(pair -> strings.add(pair.get(0).asText() + " " + pair.get(1).asText()));
            ((ObjectNode) json.get("model")).set("merges", strings);
        });
        assertThat(legacy.encode(SAMPLE, true)).containsExactly(original.encode(SAMPLE, true));
    }

    /** The GPT-2 setup: a single ByteLevel pre-tokenizer with its own regex and a prefix space. */
    @Test
    void byteLevelPreTokenizerWithRegexAndPrefixSpace() throws IOException {
        Tokenizer gpt2 = load(json -> json.set("pre_tokenizer", component("ByteLevel")
                .put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true)));
        assertThat(gpt2.encode("whale", false)).containsExactly(original.encode(" whale", false));
        assertThat(gpt2.decode(gpt2.encode("whale", false), false)).isEqualTo(" whale");
        assertThat(gpt2.decode(gpt2.encode(" whale  of\n\na tale", false), false)).isEqualTo(" whale  of\n\na tale");
        // Each piece between added tokens gets its own prefix space.
        int eot = original.tokenId("<|eot_id|>").orElseThrow();
        assertThat(gpt2.encode("<|eot_id|>whale", false)).containsExactly(
                IntStream.concat(IntStream.of(eot), IntStream.of(original.encode(" whale", false))).toArray());
    }

    @Test
    void ignoreMergesTakesAWholeVocabularyWordDirectly() throws IOException {
        // Drop the last merges, so that the tokens they made are only reachable through ignore_merges.
        Consumer<ObjectNode> truncate = json -> {
            ArrayNode merges = (ArrayNode) json.get("model").get("merges");
            while (merges.size() > 7000) {
                merges.remove(merges.size() - 1);
            }
        };
        Tokenizer withoutMerges = load(truncate);
        Tokenizer ignoring = load(json -> {
            truncate.accept(json);
            ((ObjectNode) json.get("model")).put("ignore_merges", true);
        });
        ArrayNode merges = (ArrayNode) TinyLlama.readJson(TinyLlama.modelDir().resolve("tokenizer.json"))
                .get("model").get("merges");
        String word = null;
        for (int rank = merges.size() - 1; rank >= 7000 && word == null; rank--) {
            String token = merges.get(rank).get(0).asText() + merges.get(rank).get(1).asText();
            if (token.matches("Ġ[a-z]{4,}")) {
                word = " " + token.substring(1);
            }
        }
        assertThat(word).as("a late merge that makes a whole word").isNotNull();
        int wholeId = original.tokenId("Ġ" + word.substring(1)).orElseThrow();

        assertThat(withoutMerges.encode(word, false)).hasSizeGreaterThan(1);
        assertThat(ignoring.encode(word, false)).containsExactly(wholeId);
        assertThat(ignoring.decode(ignoring.encode(SAMPLE, false), false)).isEqualTo(SAMPLE);
    }

    @Test
    void nfcNormalizerComposesCharacters() throws IOException {
        Tokenizer nfc = load(json -> json.set("normalizer", component("NFC")));
        String decomposed = "cafe\u0301 n\u0303";
        assertThat(nfc.encode(decomposed, false)).containsExactly(original.encode("café ñ", false));
        assertThat(original.encode(decomposed, false)).isNotEqualTo(original.encode("café ñ", false));
    }

    @Test
    void addedTokenFlags() throws IOException {
        Tokenizer tokenizer = load(json -> {
            ArrayNode added = (ArrayNode) json.get("added_tokens");
            added.add(addedToken(8192, "<tool>").put("lstrip", true).put("rstrip", true));
            added.add(addedToken(8193, "cat").put("single_word", true).put("normalized", true));
            added.add(addedToken(8194, "[A]"));
            added.add(addedToken(8195, "[A][B]"));
        });
        assertThat(tokenizer.vocabSize()).isEqualTo(8196);
        assertThat(tokenizer.isSpecial(8192)).isFalse();

        assertThat(tokenizer.encode("a  <tool>\n b", false)).containsExactly(
                IntStream.concat(IntStream.concat(IntStream.of(original.encode("a", false)), IntStream.of(8192)),
                        IntStream.of(original.encode("b", false))).toArray());
        assertThat(tokenizer.decode(new int[] {8192}, true)).as("not special, so kept").isEqualTo("<tool>");

        assertThat(tokenizer.encode("a cat!", false)).contains(8193);
        assertThat(tokenizer.encode("concat cats", false)).doesNotContain(8193)
                .containsExactly(original.encode("concat cats", false));

        assertThat(tokenizer.encode("[A][B][A]", false)).containsExactly(8195, 8194);
    }

    @Test
    void templateInsideASequenceAndNoPostProcessor() throws IOException {
        Tokenizer sequenced = load(json -> {
            ObjectNode sequence = component("Sequence");
            sequence.putArray("processors").add(component("ByteLevel").put("trim_offsets", false)).add(json.get("post_processor"));
            json.set("post_processor", sequence);
        });
        assertThat(sequenced.encode(SAMPLE, true)).containsExactly(original.encode(SAMPLE, true));

        Tokenizer bare = load(json -> json.putNull("post_processor"));
        assertThat(bare.encode(SAMPLE, true)).containsExactly(original.encode(SAMPLE, false));
        assertThat(bare.bosId()).as("no template and no tokenizer_config.json").isEmpty();

        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": {\"content\": \"<|end_of_text|>\"}}");
        assertThat(Tokenizer.load(dir).bosId()).isEqualTo(original.tokenId("<|end_of_text|>"));
    }

    private void assertRejected(Consumer<ObjectNode> edit, String field) throws IOException {
        assertThatThrownBy(() -> load(edit))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer.json")
                .hasMessageContaining("'" + field + "'");
    }

    private Tokenizer load(Consumer<ObjectNode> edit) throws IOException {
        ObjectNode json = (ObjectNode) MAPPER.readTree(
                Files.readString(TinyLlama.modelDir().resolve("tokenizer.json"), StandardCharsets.UTF_8));
        edit.accept(json);
        Files.writeString(dir.resolve("tokenizer.json"), MAPPER.writeValueAsString(json));
        return Tokenizer.load(dir);
    }

    private static ObjectNode component(String type) {
        return JSON.objectNode().put("type", type);
    }

    private static ObjectNode addedToken(int id, String content) {
        return JSON.objectNode().put("id", id).put("content", content).put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", false);
    }
}
