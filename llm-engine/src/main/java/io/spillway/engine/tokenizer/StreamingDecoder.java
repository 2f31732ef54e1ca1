package io.spillway.engine.tokenizer;

import java.util.Arrays;

/**
 * Decodes generated tokens one at a time. A byte-level token can end in the middle of a UTF-8
 * character (an emoji is often two or three tokens), so the bytes of an unfinished character are
 * held back until the token that completes it; bytes that can no longer form a character are
 * emitted as U+FFFD at once. The concatenation of everything returned by {@link #append} and
 * {@link #flush} equals {@link Tokenizer#decode} of all the ids.
 *
 * <p>Not thread-safe: one per generated sequence.
 */
public final class StreamingDecoder {

    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    /** At most one unfinished character, plus the token being appended. */
    private byte[] pending = new byte[16];
    private int pendingLength;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /**
     * Adds a token and returns the text it completes, possibly empty.
     *
     * @throws IllegalArgumentException for an id that is not in the vocabulary
     */
    public String append(int id) {
        byte[] bytes = tokenizer.bytesOf(id, skipSpecialTokens);
        if (pendingLength + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingLength + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, pendingLength, bytes.length);
        pendingLength += bytes.length;
        return take(Utf8.settledLength(pending, 0, pendingLength));
    }

    /** Returns what is held back, an unfinished character becoming U+FFFD, and starts afresh. */
    public String flush() {
        return take(pendingLength);
    }

    private String take(int length) {
        String text = Utf8.decodeLossy(pending, 0, length);
        System.arraycopy(pending, length, pending, 0, pendingLength - length);
        pendingLength -= length;
        return text;
    }
}
