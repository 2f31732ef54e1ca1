package io.spillway.engine.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class StreamingDecoderTest {

    private final Tokenizer tokenizer = TinyLlama.tokenizer();

    @Test
    void charactersSplitAcrossTokensAreEmittedWhole() {
        String text = "Whales 🐋 and 👩‍👩‍👧‍👦 families; 漢字かな 한국어 and café ñ 👍🏽!";
        int[] ids = tokenizer.encode(text, false);
        assertThat(IntStream.of(ids).mapToObj(id -> tokenizer.decode(new int[] {id}, false)))
                .as("the test needs tokens that cut a character")
                .anyMatch(piece -> piece.contains("\uFFFD"));

        StreamingDecoder decoder = tokenizer.streamingDecoder();
        List<String> chunks = new ArrayList<>();
        for (int id : ids) {
            chunks.add(decoder.append(id));
        }
        chunks.add(decoder.flush());

        assertThat(chunks).contains("");
        for (String chunk : chunks) {
            assertThat(chunk).doesNotContain("\uFFFD");
            assertThat(Utf8.replaceLoneSurrogates(chunk)).as("no broken surrogate pair").isEqualTo(chunk);
        }
        assertThat(String.join("", chunks)).isEqualTo(tokenizer.decode(ids, false)).isEqualTo(text);
    }

    /** Any byte sequence, fed one byte token at a time, streams to the same text as a whole decode. */
    @Test
    void randomBytesStreamLikeAWholeDecode() {
        Random random = new Random(42);
        for (int round = 0; round < 500; round++) {
            int[] ids = new int[random.nextInt(12)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = byteToken(biasedByte(random));
            }
            StreamingDecoder decoder = tokenizer.streamingDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int id : ids) {
                streamed.append(decoder.append(id));
            }
            streamed.append(decoder.flush());
            assertThat(streamed.toString()).isEqualTo(tokenizer.decode(ids, false));
        }
    }

    @Test
    void flushEmitsAnUnfinishedCharacterAsReplacement() {
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        assertThat(decoder.append(byteToken(0xF0))).isEmpty();
        assertThat(decoder.append(byteToken(0x9F))).isEmpty();
        assertThat(decoder.flush()).isEqualTo("\uFFFD");
        assertThat(decoder.append(byteToken('a'))).as("flush starts afresh").isEqualTo("a");
    }

    @Test
    void impossibleContinuationIsEmittedAtOnce() {
        StreamingDecoder decoder = tokenizer.streamingDecoder();
        assertThat(decoder.append(byteToken(0xE2))).isEmpty();
        assertThat(decoder.append(byteToken('x'))).isEqualTo("\uFFFDx");
    }

    @Test
    void specialTokensAreKeptOrSkipped() {
        int[] ids = tokenizer.encode("<|start_header_id|>user<|end_header_id|>", false);
        StringBuilder kept = new StringBuilder();
        StringBuilder skipped = new StringBuilder();
        StreamingDecoder keeping = tokenizer.streamingDecoder();
        StreamingDecoder skipping = tokenizer.streamingDecoder(true);
        for (int id : ids) {
            kept.append(keeping.append(id));
            skipped.append(skipping.append(id));
        }
        assertThat(kept.toString()).isEqualTo("<|start_header_id|>user<|end_header_id|>");
        assertThat(skipped.toString()).isEqualTo("user");
    }

    /** Mostly bytes that start or continue multi-byte characters, where the interesting cases are. */
    private static int biasedByte(Random random) {
        return switch (random.nextInt(4)) {
            case 0 -> random.nextInt(0x80);
            case 1 -> 0x80 + random.nextInt(0x40);
            case 2 -> 0xC0 + random.nextInt(0x40);
            default -> random.nextInt(256);
        };
    }

    /** The single-byte token for a byte: every byte-level vocabulary has all 256. */
    private int byteToken(int b) {
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (Arrays.equals(ByteLevel.tokenBytes(tokenizer.token(id)), new byte[] {(byte) b})) {
                return id;
            }
        }
        throw new AssertionError("no token for byte " + b);
    }
}
