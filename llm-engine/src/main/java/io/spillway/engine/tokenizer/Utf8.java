package io.spillway.engine.tokenizer;

import java.nio.charset.StandardCharsets;

/**
 * Lossy UTF-8 handling with exactly the replacement rules of Rust's {@code String::from_utf8_lossy}
 * (one U+FFFD per maximal ill-formed subpart), which is what HF tokenizers uses when decoding.
 * Written out by hand rather than relying on the JDK decoder so that the streaming decoder can
 * tell an incomplete-but-valid tail (wait for more bytes) from an invalid one (emit U+FFFD now).
 */
final class Utf8 {

    static final char REPLACEMENT = '\uFFFD';

    private Utf8() {
    }

    /**
     * Classifies the sequence starting at {@code b[i]}: a positive value is the length of a valid
     * character, a negative value {@code -n} means the first {@code n} bytes are an ill-formed
     * subpart to replace, and 0 means the bytes up to {@code end} are a valid but truncated prefix.
     */
    static int sequenceLength(byte[] b, int i, int end) {
        int lead = b[i] & 0xFF;
        if (lead < 0x80) {
            return 1;
        }
        int continuation;
        int lo = 0x80;
        int hi = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuation = 2;
            if (lead == 0xE0) {
                lo = 0xA0; // overlong
            } else if (lead == 0xED) {
                hi = 0x9F; // surrogates
            }
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuation = 3;
            if (lead == 0xF0) {
                lo = 0x90; // overlong
            } else if (lead == 0xF4) {
                hi = 0x8F; // above U+10FFFF
            }
        } else {
            return -1;
        }
        for (int k = 1; k <= continuation; k++) {
            if (i + k >= end) {
                return 0;
            }
            int c = b[i + k] & 0xFF;
            if (c < lo || c > hi) {
                return -k;
            }
            lo = 0x80;
            hi = 0xBF;
        }
        return continuation + 1;
    }

    /** Decodes {@code b[from, to)}; a truncated sequence at the end becomes one U+FFFD. */
    static String decodeLossy(byte[] b, int from, int to) {
        StringBuilder out = null;
        int validFrom = from;
        int i = from;
        while (i < to) {
            int n = sequenceLength(b, i, to);
            if (n > 0) {
                i += n;
                continue;
            }
            if (out == null) {
                out = new StringBuilder(to - from);
            }
            out.append(new String(b, validFrom, i - validFrom, StandardCharsets.UTF_8)).append(REPLACEMENT);
            i = n == 0 ? to : i - n;
            validFrom = i;
        }
        String tail = new String(b, validFrom, to - validFrom, StandardCharsets.UTF_8);
        return out == null ? tail : out.append(tail).toString();
    }

    /**
     * The length of the longest prefix of {@code b[from, to)} whose decoding can no longer change
     * when more bytes are appended: everything except a trailing truncated sequence.
     */
    static int settledLength(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int n = sequenceLength(b, i, to);
            if (n == 0) {
                break;
            }
            i += Math.abs(n);
        }
        return i - from;
    }

    /**
     * Replaces unpaired surrogates by U+FFFD. A Rust {@code &str} cannot hold them, so this is the
     * closest input HF could have seen; it also keeps {@link String#getBytes} from writing '?'.
     */
    static String replaceLoneSurrogates(String s) {
        char[] chars = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!Character.isSurrogate(c)) {
                continue;
            }
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
                continue;
            }
            if (chars == null) {
                chars = s.toCharArray();
            }
            chars[i] = REPLACEMENT;
        }
        return chars == null ? s : new String(chars);
    }
}
