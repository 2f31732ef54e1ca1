package io.spillway.engine.tokenizer;

import java.util.List;
import java.util.function.Consumer;

/**
 * The {@code pre_tokenizer} of tokenizer.json: cuts text into the pieces that BPE encodes one by
 * one. Like HF, no step ever hands on an empty piece.
 */
interface PreTokenizer {

    /** GPT-2's split pattern, built into HF's ByteLevel pre-tokenizer when use_regex is set. */
    String GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    /** Feeds the pieces of a non-empty {@code text}, in order, to {@code out}. */
    void split(String text, Consumer<String> out);

    static PreTokenizer fromJson(JsonField json) {
        if (json.isAbsent()) {
            return (text, out) -> out.accept(text);
        }
        String type = json.type();
        return switch (type) {
            case "Sequence" -> sequence(json.get("pretokenizers").elements().stream().map(PreTokenizer::fromJson).toList());
            case "Split" -> RegexSplit.fromJson(json);
            case "ByteLevel" -> new ByteLevelPreTokenizer(
                    json.get("add_prefix_space").bool(true),
                    json.get("use_regex").bool(true)
                            ? RegexSplit.isolated(OnigurumaRegex.compile(GPT2_PATTERN, json.get("use_regex")))
                            : null);
            default -> throw json.get("type").fail(
                    "unsupported pre-tokenizer '" + type + "' (supported: ByteLevel, Split, Sequence)");
        };
    }

    private static PreTokenizer sequence(List<PreTokenizer> steps) {
        PreTokenizer chain = (text, out) -> out.accept(text);
        for (PreTokenizer step : steps) {
            PreTokenizer before = chain;
            chain = (text, out) -> before.split(text, piece -> step.split(piece, out));
        }
        return chain;
    }

    /**
     * HF's ByteLevel step: optionally a leading space, optionally the GPT-2 split, then every piece
     * rewritten in the byte-level alphabet that the BPE vocabulary is spelled in.
     *
     * @param gpt2Split null when use_regex is off
     */
    record ByteLevelPreTokenizer(boolean addPrefixSpace, RegexSplit gpt2Split) implements PreTokenizer {
        @Override
        public void split(String text, Consumer<String> out) {
            String spaced = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
            if (gpt2Split == null) {
                out.accept(ByteLevel.toByteChars(spaced));
            } else {
                gpt2Split.split(spaced, piece -> out.accept(ByteLevel.toByteChars(piece)));
            }
        }
    }
}
