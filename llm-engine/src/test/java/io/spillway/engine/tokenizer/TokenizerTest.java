package io.spillway.engine.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Encoding and decoding with the tiny-llama tokenizer (Llama-3 pre-tokenizer). */
class TokenizerTest {

    private final Tokenizer tokenizer = TinyLlama.tokenizer();

    @ParameterizedTest
    @ValueSource(strings = {
            "The quick brown fox jumps over the lazy dog.",
            "def f(x):\n\tif x > 0:\n\t\treturn x * 2  # double\n    return -x\n\n\nclass A { int[] a = {1,2}; }\r\n",
            "family 👩‍👩‍👧‍👦, thumbs 👍🏽👍🏿, flag 🇳🇴, keycap 1️⃣",
            "漢字とかなカナ、한국어 텍스트。中文标点！",
            "combining: e\u0301 a\u0308 n\u0303 \u0915\u094D\u0937 Z\u0351\u0352\u0353",
            "a  \n\n  b\t\tc   ",
            "I'll DON'T we'RE you've it's",
            "1234567 and 3.14159 and ٣٤٥",
            "   leading and trailing   ",
            "\u00A0nbsp\u2003em space\u3000ideographic\u2028line sep",
            ""
    })
    void decodeInvertsEncode(String text) {
        assertThat(tokenizer.decode(tokenizer.encode(text, false), false)).isEqualTo(text);
        assertThat(tokenizer.decode(tokenizer.encode(text, true), true)).isEqualTo(text);
    }

    @Test
    void addSpecialTokensPutsBosInFront() {
        int[] plain = tokenizer.encode("Call me Ishmael.", false);
        int[] withBos = tokenizer.encode("Call me Ishmael.", true);
        assertThat(withBos[0]).isEqualTo(tokenizer.bosId().orElseThrow());
        assertThat(withBos).endsWith(plain).hasSize(plain.length + 1);
        assertThat(tokenizer.encode("", true)).containsExactly(tokenizer.bosId().orElseThrow());
        assertThat(tokenizer.encode("", false)).isEmpty();
    }

    /** Llama-3's pattern cuts digit runs into groups of at most three, so no token straddles them. */
    @Test
    void digitsAreGroupedByThree() {
        int[] ids = tokenizer.encode("1234567", false);
        List<Integer> boundaries = new ArrayList<>();
        int at = 0;
        for (int id : ids) {
            at += tokenizer.decode(new int[] {id}, false).length();
            boundaries.add(at);
        }
        assertThat(boundaries).contains(3, 6, 7);
    }

    @Test
    void specialTokensInTextAreMatchedLiterally() {
        String text = "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>";
        int start = id("<|start_header_id|>");
        int end = id("<|end_header_id|>");
        int eot = id("<|eot_id|>");

        IntStream.Builder expected = IntStream.builder().add(start);
        IntStream.of(tokenizer.encode("user", false)).forEach(expected);
        expected.add(end);
        IntStream.of(tokenizer.encode("\n\nhi", false)).forEach(expected);
        expected.add(eot);

        int[] ids = tokenizer.encode(text, false);
        assertThat(ids).containsExactly(expected.build().toArray());
        assertThat(tokenizer.decode(ids, false)).isEqualTo(text);
        assertThat(tokenizer.decode(ids, true)).isEqualTo("user\n\nhi");
        assertThat(IntStream.of(start, end, eot).allMatch(tokenizer::isSpecial)).isTrue();
    }

    @Test
    void partialSpecialTokenIsOrdinaryText() {
        int[] ids = tokenizer.encode("<|eot_id| <|eot", false);
        assertThat(ids).doesNotContain(id("<|eot_id|>"));
        assertThat(tokenizer.decode(ids, false)).isEqualTo("<|eot_id| <|eot");
    }

    @Test
    void invalidUtf8IsReadWithReplacementCharacters() {
        byte[] bad = {0x66, (byte) 0xC3, 0x28, (byte) 0xFF};
        int[] ids = tokenizer.encode(bad, false);
        assertThat(ids).containsExactly(tokenizer.encode("f\uFFFD(\uFFFD", false));
        assertThat(tokenizer.decode(ids, false)).isEqualTo("f\uFFFD(\uFFFD");
    }

    @Test
    void validUtf8BytesEncodeLikeTheString() {
        String text = "naïve café 👍🏽 漢字";
        assertThat(tokenizer.encode(text.getBytes(StandardCharsets.UTF_8), true))
                .containsExactly(tokenizer.encode(text, true));
    }

    @Test
    void loneSurrogatesEncodeAsReplacementCharacters() {
        String text = "a\uD800b\uDC00c\uD83D";
        int[] ids = tokenizer.encode(text, false);
        assertThat(tokenizer.decode(ids, false)).isEqualTo("a\uFFFDb\uFFFDc\uFFFD");
    }

    @Test
    void decodeOfACutCharacterGivesReplacement() {
        int[] emoji = tokenizer.encode("👍", false);
        assertThat(emoji.length).as("the tiny vocabulary spells 👍 in several byte tokens").isGreaterThan(1);
        assertThat(tokenizer.decode(new int[] {emoji[0]}, false)).isEqualTo("\uFFFD");
    }

    @Test
    void unknownIdIsRejected() {
        assertThatThrownBy(() -> tokenizer.decode(new int[] {5, tokenizer.vocabSize()}, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(String.valueOf(tokenizer.vocabSize()));
        assertThatThrownBy(() -> tokenizer.decode(new int[] {-1}, false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> tokenizer.token(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tokenAndTokenIdAreInverse() {
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            assertThat(tokenizer.tokenId(tokenizer.token(id))).hasValue(id);
        }
        assertThat(tokenizer.token(id("<|eot_id|>"))).isEqualTo("<|eot_id|>");
        assertThat(tokenizer.tokenId("no such token")).isEmpty();
        assertThat(tokenizer.isSpecial(tokenizer.encode("the", false)[0])).isFalse();
        assertThat(tokenizer.isSpecial(tokenizer.vocabSize())).isFalse();
    }

    @Test
    void concurrentEncodingGivesTheSameIds() throws Exception {
        List<String> texts = IntStream.range(0, 200)
                .mapToObj(i -> "document " + i + ": the whale number " + (i * 7919) + " swam " + "far ".repeat(i % 7))
                .toList();
        List<int[]> expected = texts.stream().map(t -> TinyLlama.tokenizer().encode(t, true)).toList();
        Tokenizer fresh = Tokenizer.load(TinyLlama.modelDir());
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<List<int[]>>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> texts.stream().map(s -> fresh.encode(s, true)).toList()));
            }
            for (Future<List<int[]>> result : results) {
                List<int[]> got = result.get();
                for (int i = 0; i < texts.size(); i++) {
                    assertThat(got.get(i)).containsExactly(expected.get(i));
                }
            }
        }
    }

    private int id(String token) {
        return tokenizer.tokenId(token).orElseThrow();
    }
}
