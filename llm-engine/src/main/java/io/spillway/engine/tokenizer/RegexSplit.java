package io.spillway.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** HF's Split pre-tokenizer: cuts at the matches of a pattern, then keeps or glues the matches. */
record RegexSplit(Pattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {

    /** What happens to the matched parts (HF's SplitDelimiterBehavior). */
    enum Behavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    static RegexSplit isolated(Pattern pattern) {
        return new RegexSplit(pattern, Behavior.ISOLATED, false);
    }

    static RegexSplit fromJson(JsonField json) {
        JsonField pattern = json.get("pattern");
        Pattern compiled;
        if (!pattern.get("Regex").isAbsent()) {
            compiled = OnigurumaRegex.compile(pattern.get("Regex").text(), pattern.get("Regex"));
        } else if (!pattern.get("String").isAbsent()) {
            String literal = pattern.get("String").text();
            if (literal.isEmpty()) {
                throw pattern.get("String").fail("an empty split string is not supported");
            }
            compiled = Pattern.compile(Pattern.quote(literal));
        } else {
            throw pattern.fail("expected {\"Regex\": ...} or {\"String\": ...}");
        }
        String behavior = json.get("behavior").text();
        return new RegexSplit(compiled, switch (behavior) {
            case "Removed" -> Behavior.REMOVED;
            case "Isolated" -> Behavior.ISOLATED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> Behavior.CONTIGUOUS;
            default -> throw json.get("behavior").fail("unknown split behavior '" + behavior + "'");
        }, json.get("invert").bool(false));
    }

    /** A stretch of the text: a match of the pattern (or, inverted, of what lies between). */
    private static final class Span {
        int start;
        int end;
        final boolean match;

        Span(int start, int end, boolean match) {
            this.start = start;
            this.end = end;
            this.match = match;
        }
    }

    @Override
    public void split(String text, Consumer<String> out) {
        for (Span span : apply(behavior, spans(text))) {
            if (span.end > span.start && !(behavior == Behavior.REMOVED && span.match)) {
                out.accept(text.substring(span.start, span.end));
            }
        }
    }

    /** The matches and the gaps between them, covering the whole text. */
    private List<Span> spans(String text) {
        List<Span> spans = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int previous = 0;
        while (m.find()) {
            if (previous < m.start()) {
                spans.add(new Span(previous, m.start(), invert));
            }
            spans.add(new Span(m.start(), m.end(), !invert));
            previous = m.end();
        }
        if (previous < text.length()) {
            spans.add(new Span(previous, text.length(), invert));
        }
        return spans;
    }

    /** The same folds as HF's NormalizedString::split. */
    private static List<Span> apply(Behavior behavior, List<Span> spans) {
        if (behavior == Behavior.REMOVED || behavior == Behavior.ISOLATED) {
            return spans;
        }
        List<Span> acc = new ArrayList<>(spans.size());
        boolean previousMatch = false;
        if (behavior == Behavior.MERGED_WITH_NEXT) {
            for (Span span : spans.reversed()) {
                if (span.match && !previousMatch && !acc.isEmpty()) {
                    acc.getLast().start = span.start;
                } else {
                    acc.add(span);
                }
                previousMatch = span.match;
            }
            return acc.reversed();
        }
        for (Span span : spans) {
            boolean glue = behavior == Behavior.CONTIGUOUS
                    ? span.match == previousMatch
                    : span.match && !previousMatch;
            if (glue && !acc.isEmpty()) {
                acc.getLast().end = span.end;
            } else {
                acc.add(span);
            }
            previousMatch = span.match;
        }
        return acc;
    }
}
