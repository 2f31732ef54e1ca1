package io.spillway.engine.sampling;

import java.util.List;
import java.util.Optional;

/**
 * Finds stop strings in text that arrives in pieces, as tokens are decoded. Text is released as soon
 * as no stop string can begin in it: a tail that could be the start of one is held back until the
 * next piece decides, so a stop string split across tokens is never emitted in part. The stop string
 * and everything after it are dropped. One instance per sequence; not thread-safe.
 */
public final class StopMatcher {

    /**
     * @param text what may be emitted now
     * @param stop the stop string that ended the text, if one did; nothing is emitted after it
     */
    public record Result(String text, Optional<String> stop) {

        public boolean stopped() {
            return stop.isPresent();
        }
    }

    private final List<String> stops;
    private String held = "";
    private boolean stopped;

    public StopMatcher(List<String> stops) {
        this.stops = List.copyOf(stops);
        for (String s : this.stops) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /**
     * Adds decoded text.
     *
     * @throws IllegalStateException after a stop string was found
     */
    public Result append(String newText) {
        if (stopped) {
            throw new IllegalStateException("a stop string has already ended this text");
        }
        String text = held + newText;
        int stopAt = -1;
        String stop = null;
        for (String s : stops) {
            int at = text.indexOf(s);
            if (at >= 0 && (stopAt < 0 || at < stopAt)) {
                stopAt = at;
                stop = s;
            }
        }
        if (stop != null) {
            stopped = true;
            held = "";
            return new Result(text.substring(0, stopAt), Optional.of(stop));
        }
        int keep = heldBackLength(text);
        held = text.substring(text.length() - keep);
        return new Result(text.substring(0, text.length() - keep), Optional.empty());
    }

    /** The held-back text, at the end of a generation that no stop string ended; "" after a stop. */
    public String flush() {
        String rest = held;
        held = "";
        return rest;
    }

    /** The length of the longest end of {@code text} that is a proper prefix of a stop string. */
    private int heldBackLength(String text) {
        int longest = 0;
        for (String s : stops) {
            for (int n = Math.min(s.length() - 1, text.length()); n > longest; n--) {
                if (text.regionMatches(text.length() - n, s, 0, n)) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }
}
