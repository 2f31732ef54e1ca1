package io.spillway.engine.tokenizer;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Compiles an Oniguruma pattern (the regex engine of HF tokenizers) to {@link Pattern} with the
 * same meaning. The split patterns of GPT-2, Llama-3 and Qwen2 need no rewriting; the flags give
 * \s, \w, \d and case folding their Unicode meaning and make '.', '^' and '$' treat only \n as a
 * line end, as Oniguruma's Ruby syntax does. The few escapes that mean something else in Java are
 * rewritten or refused, so a pattern never silently splits differently.
 */
final class OnigurumaRegex {

    private static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.MULTILINE | Pattern.UNIX_LINES;

    private OnigurumaRegex() {
    }

    static Pattern compile(String onigPattern, JsonField where) {
        try {
            return Pattern.compile(toJava(onigPattern, where), FLAGS);
        } catch (PatternSyntaxException e) {
            throw where.fail("regex not supported: " + e.getDescription() + " in " + onigPattern);
        }
    }

    private static String toJava(String p, JsonField where) {
        StringBuilder out = new StringBuilder(p.length() + 16);
        int classDepth = 0;
        for (int i = 0; i < p.length(); i++) {
            char c = p.charAt(i);
            if (c == '[') {
                if (classDepth > 0 && p.startsWith("[:", i)) {
                    throw where.fail("POSIX bracket expressions like [:alpha:] are not supported: " + p);
                }
                classDepth++;
            } else if (c == ']' && classDepth > 0) {
                classDepth--;
            }
            if (c != '\\' || i + 1 == p.length()) {
                out.append(c);
                continue;
            }
            char e = p.charAt(++i);
            switch (e) {
                case 'p', 'P' -> i = property(p, i, e == 'P', out, where);
                case 'h' -> out.append(classDepth > 0 ? "0-9a-fA-F" : "[0-9a-fA-F]"); // Java: horizontal space
                case 'H' -> {
                    if (classDepth > 0) {
                        throw where.fail("\\H inside a character class is not supported: " + p);
                    }
                    out.append("[^0-9a-fA-F]");
                }
                case 'v' -> out.append("\\x0B"); // Java: any vertical whitespace
                default -> out.append('\\').append(e);
            }
        }
        return out.toString();
    }

    /**
     * Rewrites {@code \p{^Name}} as Java's {@code \P{Name}}, and script or property names that
     * Java only knows with an "Is" prefix ({@code \p{Han}}). Returns the index of the closing brace.
     */
    private static int property(String p, int i, boolean negated, StringBuilder out, JsonField where) {
        int close = p.indexOf('}', i);
        if (i + 1 >= p.length() || p.charAt(i + 1) != '{' || close < 0) {
            throw where.fail("only the \\p{Name} form is supported: " + p);
        }
        String name = p.substring(i + 2, close);
        if (name.startsWith("^")) {
            negated = !negated;
            name = name.substring(1);
        }
        if (!javaKnows(name)) {
            name = "Is" + name;
        }
        out.append(negated ? "\\P{" : "\\p{").append(name).append('}');
        return close;
    }

    private static boolean javaKnows(String propertyName) {
        try {
            Pattern.compile("\\p{" + propertyName + "}", FLAGS);
            return true;
        } catch (PatternSyntaxException e) {
            return false;
        }
    }
}
