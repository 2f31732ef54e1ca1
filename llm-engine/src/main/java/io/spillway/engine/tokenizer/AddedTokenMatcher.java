package io.spillway.engine.tokenizer;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Cuts added tokens out of a text the way HF's AddedVocabulary does: leftmost-longest literal
 * matches, scanning on after each match, with the single_word, lstrip and rstrip rules.
 */
final class AddedTokenMatcher {

    private record Candidate(String text, AddedToken token) {
    }

    /** Candidates by first char, longest first, so the first hit at a position is the longest. */
    private final Map<Character, List<Candidate>> byFirstChar = new HashMap<>();
    /** Lets the scan skip the map lookup on the (vast majority of) chars that start no token. */
    private final BitSet firstChars = new BitSet(Character.MAX_VALUE + 1);

    /** @param texts the text to look for, per token (normalized tokens are matched normalized) */
    AddedTokenMatcher(Map<AddedToken, String> texts) {
        List<Candidate> all = new ArrayList<>();
        texts.forEach((token, text) -> all.add(new Candidate(text, token)));
        all.sort(Comparator.comparingInt((Candidate c) -> c.text().length()).reversed());
        for (Candidate c : all) {
            if (c.text().isEmpty()) {
                continue;
            }
            char first = c.text().charAt(0);
            firstChars.set(first);
            byFirstChar.computeIfAbsent(first, k -> new ArrayList<>()).add(c);
        }
    }

    /** Feeds the text in order: token ids for matches, non-empty strings for the text between. */
    void split(String text, IntConsumer onToken, Consumer<String> onText) {
        int emitted = 0;
        int i = 0;
        while (i < text.length()) {
            Candidate match = firstChars.get(text.charAt(i)) ? longestAt(text, i) : null;
            if (match == null) {
                i++;
                continue;
            }
            AddedToken token = match.token();
            int start = i;
            int stop = i + match.text().length();
            // Like an Aho-Corasick iterator, scanning resumes after a match even when it is discarded.
            i = stop;
            if (token.singleWord() && (endsWithWord(text, start) || startsWithWord(text, stop))) {
                continue;
            }
            if (token.lstrip()) {
                // A previous rstrip may already own that whitespace.
                start = Math.max(whitespaceStartBefore(text, start), emitted);
            }
            if (token.rstrip()) {
                stop = whitespaceEndAfter(text, stop);
                i = stop;
            }
            if (emitted < start) {
                onText.accept(text.substring(emitted, start));
            }
            onToken.accept(token.id());
            emitted = stop;
        }
        if (emitted < text.length()) {
            onText.accept(emitted == 0 ? text : text.substring(emitted));
        }
    }

    private Candidate longestAt(String text, int i) {
        for (Candidate c : byFirstChar.get(text.charAt(i))) {
            if (text.startsWith(c.text(), i)) {
                return c;
            }
        }
        return null;
    }

    private static boolean endsWithWord(String text, int end) {
        return end > 0 && isWordChar(text.codePointBefore(end));
    }

    private static boolean startsWithWord(String text, int start) {
        return start < text.length() && isWordChar(text.codePointAt(start));
    }

    private static int whitespaceStartBefore(String text, int end) {
        int i = end;
        while (i > 0 && isWhitespace(text.codePointBefore(i))) {
            i -= Character.charCount(text.codePointBefore(i));
        }
        return i;
    }

    private static int whitespaceEndAfter(String text, int start) {
        int i = start;
        while (i < text.length() && isWhitespace(text.codePointAt(i))) {
            i += Character.charCount(text.codePointAt(i));
        }
        return i;
    }

    /** Unicode White_Space, the meaning of \s in the Rust regex crate. */
    private static boolean isWhitespace(int cp) {
        return Character.isSpaceChar(cp) || (cp >= 0x09 && cp <= 0x0D) || cp == 0x85;
    }

    /** Unicode \w as the Rust regex crate (and UTS #18) define it. */
    private static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp) || cp == 0x200C || cp == 0x200D) {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.NON_SPACING_MARK, Character.ENCLOSING_MARK, Character.COMBINING_SPACING_MARK,
                 Character.DECIMAL_DIGIT_NUMBER, Character.CONNECTOR_PUNCTUATION -> true;
            default -> false;
        };
    }
}
