package io.spillway.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * An entry of tokenizer.json's {@code added_tokens}: text matched literally before pre-tokenization.
 *
 * @param normalized whether it is matched in the normalized text rather than in the raw input
 * @param singleWord match only when not glued to word characters on either side
 * @param lstrip     also swallow the whitespace before it
 * @param rstrip     also swallow the whitespace after it
 */
record AddedToken(int id, String content, boolean special, boolean normalized,
                  boolean singleWord, boolean lstrip, boolean rstrip) {

    static List<AddedToken> listFromJson(JsonField array) {
        List<AddedToken> tokens = new ArrayList<>();
        if (array.isAbsent()) {
            return tokens;
        }
        for (JsonField entry : array.elements()) {
            String content = entry.get("content").text();
            boolean special = entry.get("special").bool(false);
            if (content.isEmpty()) {
                throw entry.get("content").fail("an added token cannot be empty");
            }
            int id = entry.get("id").integer();
            if (id < 0) {
                throw entry.get("id").fail("negative token id");
            }
            tokens.add(new AddedToken(
                    id,
                    content,
                    special,
                    // HF's default: special tokens are matched verbatim, others after normalization.
                    entry.get("normalized").bool(!special),
                    entry.get("single_word").bool(false),
                    entry.get("lstrip").bool(false),
                    entry.get("rstrip").bool(false)));
        }
        return tokens;
    }
}
