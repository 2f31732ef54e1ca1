package io.spillway.engine.tokenizer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Replacement follows Rust's from_utf8_lossy: one U+FFFD per maximal ill-formed subpart. */
class Utf8Test {

    @Test
    void unicodeStandardTable3_8Example() {
        byte[] b = bytes(0x61, 0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 0x62, 0x80, 0x63, 0x80, 0xBF, 0x64);
        assertThat(Utf8.decodeLossy(b, 0, b.length)).isEqualTo("a\uFFFD\uFFFD\uFFFDb\uFFFDc\uFFFD\uFFFDd");
    }

    /** The JDK's decoder gives one U+FFFD for an encoded surrogate; Rust gives three. */
    @Test
    void encodedSurrogateIsThreeReplacements() {
        byte[] b = bytes(0xED, 0xA0, 0x80);
        assertThat(Utf8.decodeLossy(b, 0, b.length)).isEqualTo("\uFFFD\uFFFD\uFFFD");
    }

    @Test
    void overlongAndOutOfRangeFormsAreInvalid() {
        byte[] b = bytes(0xC0, 0xAF, 0xE0, 0x80, 0xAF, 0xF4, 0x90, 0x80, 0x80, 0xF5);
        assertThat(Utf8.decodeLossy(b, 0, b.length)).isEqualTo("\uFFFD".repeat(10));
    }

    @Test
    void truncatedCharacterAtTheEndIsOneReplacement() {
        byte[] b = bytes(0x61, 0xF0, 0x9F, 0x98);
        assertThat(Utf8.decodeLossy(b, 0, b.length)).isEqualTo("a\uFFFD");
        assertThat(Utf8.settledLength(b, 0, b.length)).isEqualTo(1);
    }

    @Test
    void invalidTailIsSettled() {
        byte[] b = bytes(0x61, 0xF0, 0x41);
        assertThat(Utf8.settledLength(b, 0, b.length)).isEqualTo(3);
        byte[] complete = "a😀".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(Utf8.settledLength(complete, 0, complete.length)).isEqualTo(complete.length);
        assertThat(Utf8.decodeLossy(complete, 0, complete.length)).isEqualTo("a😀");
    }

    @Test
    void onlyUnpairedSurrogatesAreReplaced() {
        assertThat(Utf8.replaceLoneSurrogates("😀x\uDE00\uD83D")).isEqualTo("😀x\uFFFD\uFFFD");
        String clean = "plain 😀";
        assertThat(Utf8.replaceLoneSurrogates(clean)).isSameAs(clean);
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }
}
