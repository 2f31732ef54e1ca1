package io.spillway.engine.chat;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The Python {@code str} methods that HF chat templates call ({@code content.strip()},
 * {@code content.split('</think>')[-1]}, {@code role.startswith(...)}), with Python's semantics.
 *
 * <p>Jinjava resolves methods on strings against {@link String}'s Java methods, where
 * {@code startswith}, {@code upper} or {@code title} do not exist and {@code split} takes a regex.
 * Keyword arguments and the optional start/end positions of {@code startswith}, {@code endswith},
 * {@code find} and {@code count} are not supported: such calls fail with an
 * {@link PythonError} rather than fall through to a Java method of the same name.
 * Indices are in UTF-16 units, like Jinjava's slices.
 */
final class PythonStrings {

    static final Set<String> METHODS = Set.of(
            "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "upper", "lower",
            "title", "capitalize", "replace", "join", "find", "count");

    private PythonStrings() {
    }

    /** Calls the method {@code name}, one of {@link #METHODS}, on {@code s}. */
    static Object call(String s, String name, Object[] args) {
        int n = args == null ? 0 : args.length;
        return switch (name) {
            case "strip" -> strip(s, n == 0 ? null : arg(name, args, 0, 1), true, true);
            case "lstrip" -> strip(s, n == 0 ? null : arg(name, args, 0, 1), true, false);
            case "rstrip" -> strip(s, n == 0 ? null : arg(name, args, 0, 1), false, true);
            case "startswith" -> affix(s, name, args, true);
            case "endswith" -> affix(s, name, args, false);
            case "split" -> split(s, n == 0 ? null : arg(name, args, 0, 2), n < 2 ? -1 : intArg(name, args, 1));
            case "upper" -> noArgs(name, args, s.toUpperCase(Locale.ROOT));
            case "lower" -> noArgs(name, args, s.toLowerCase(Locale.ROOT));
            case "title" -> noArgs(name, args, title(s));
            case "capitalize" -> noArgs(name, args, capitalize(s));
            case "replace" -> replace(s, requiredArg(name, args, 0, 3), requiredArg(name, args, 1, 3),
                    n < 3 ? -1 : intArg(name, args, 2));
            case "join" -> join(s, name, args);
            case "find" -> s.indexOf(requiredArg(name, args, 0, 1));
            case "count" -> count(s, requiredArg(name, args, 0, 1));
            default -> throw new PythonError("str." + name + "() is not supported");
        };
    }

    /** Python's {@code s[index]}, with negative indices counting from the end; null when out of range. */
    static String charAt(String s, long index) {
        long i = index < 0 ? index + s.length() : index;
        return i < 0 || i >= s.length() ? null : String.valueOf(s.charAt((int) i));
    }

    static boolean isWhitespace(int cp) {
        // Python's str.isspace(): Java's whitespace misses the no-break spaces and NEL.
        return Character.isWhitespace(cp) || Character.isSpaceChar(cp) || cp == 0x85;
    }

    private static String strip(String s, String chars, boolean left, boolean right) {
        int start = 0;
        int end = s.length();
        while (left && start < end && stripped(s.codePointAt(start), chars)) {
            start += Character.charCount(s.codePointAt(start));
        }
        while (right && end > start && stripped(s.codePointBefore(end), chars)) {
            end -= Character.charCount(s.codePointBefore(end));
        }
        return s.substring(start, end);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? isWhitespace(cp) : chars.indexOf(cp) >= 0;
    }

    private static boolean affix(String s, String name, Object[] args, boolean prefix) {
        if (args == null || args.length != 1) {
            throw new PythonError("str." + name + "() takes exactly one argument here");
        }
        if (args[0] instanceof Collection<?> options) {
            for (Object option : options) {
                if (affix(s, String.valueOf(option), prefix)) {
                    return true;
                }
            }
            return false;
        }
        return affix(s, requiredArg(name, args, 0, 1), prefix);
    }

    private static boolean affix(String s, String affix, boolean prefix) {
        return prefix ? s.startsWith(affix) : s.endsWith(affix);
    }

    private static List<String> split(String s, String sep, long maxSplit) {
        return sep == null ? splitWhitespace(s, maxSplit) : splitOn(s, sep, maxSplit);
    }

    private static List<String> splitOn(String s, String sep, long maxSplit) {
        if (sep.isEmpty()) {
            throw new PythonError("str.split(): empty separator");
        }
        List<String> parts = new ArrayList<>();
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static List<String> splitWhitespace(String s, long maxSplit) {
        List<String> parts = new ArrayList<>();
        int i = skipWhitespace(s, 0);
        while (i < s.length()) {
            if (maxSplit >= 0 && parts.size() == maxSplit) {
                // Python keeps the rest as is, trailing whitespace included.
                parts.add(s.substring(i));
                return parts;
            }
            int end = i;
            while (end < s.length() && !isWhitespace(s.codePointAt(end))) {
                end += Character.charCount(s.codePointAt(end));
            }
            parts.add(s.substring(i, end));
            i = skipWhitespace(s, end);
        }
        return parts;
    }

    private static int skipWhitespace(String s, int i) {
        while (i < s.length() && isWhitespace(s.codePointAt(i))) {
            i += Character.charCount(s.codePointAt(i));
        }
        return i;
    }

    private static String title(String s) {
        StringBuilder out = new StringBuilder(s.length());
        boolean afterCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            boolean cased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
            out.appendCodePoint(!cased ? cp : afterCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            afterCased = cased;
        }
        return out.toString();
    }

    private static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new StringBuilder(s.length())
                .appendCodePoint(Character.toTitleCase(first))
                .append(s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT))
                .toString();
    }

    private static String replace(String s, String old, String replacement, long count) {
        if (count < 0) {
            return s.replace(old, replacement);
        }
        StringBuilder out = new StringBuilder(s.length());
        int from = 0;
        for (long done = 0; done < count; done++) {
            int at = old.isEmpty() ? (from <= s.length() ? from : -1) : s.indexOf(old, from);
            if (at < 0) {
                break;
            }
            out.append(s, from, at).append(replacement);
            if (old.isEmpty()) {
                // An empty pattern matches before every character: copy one and move on.
                if (at < s.length()) {
                    out.append(s.charAt(at));
                }
                from = at + 1;
            } else {
                from = at + old.length();
            }
        }
        return from <= s.length() ? out.append(s.substring(from)).toString() : out.toString();
    }

    private static String join(String sep, String name, Object[] args) {
        if (args == null || args.length != 1) {
            throw new PythonError("str.join() takes exactly one argument");
        }
        StringJoiner joiner = new StringJoiner(sep);
        switch (args[0]) {
            case Iterable<?> items -> items.forEach(item -> joiner.add(String.valueOf(item)));
            case Object[] items -> {
                for (Object item : items) {
                    joiner.add(String.valueOf(item));
                }
            }
            case String chars -> chars.chars().forEach(c -> joiner.add(String.valueOf((char) c)));
            case null, default -> throw new PythonError("str." + name + "() needs a list");
        }
        return joiner.toString();
    }

    private static int count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.length() + 1;
        }
        int n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) {
            n++;
        }
        return n;
    }

    private static String noArgs(String name, Object[] args, String result) {
        if (args != null && args.length > 0) {
            throw new PythonError("str." + name + "() takes no arguments");
        }
        return result;
    }

    /** Argument {@code i} as a string, None allowed; at most {@code max} arguments. */
    private static String arg(String name, Object[] args, int i, int max) {
        if (args.length > max) {
            throw new PythonError("str." + name + "() takes at most " + max + " arguments");
        }
        return switch (args[i]) {
            case null -> null;
            case String s -> s;
            case Object other -> throw new PythonError(
                    "str." + name + "() argument " + (i + 1) + " must be a string, not "
                            + other.getClass().getSimpleName());
        };
    }

    private static String requiredArg(String name, Object[] args, int i, int max) {
        String value = args == null || args.length <= i ? null : arg(name, args, i, max);
        if (value == null) {
            throw new PythonError("str." + name + "() argument " + (i + 1) + " must be a string");
        }
        return value;
    }

    private static long intArg(String name, Object[] args, int i) {
        if (args[i] instanceof Number number && number.doubleValue() == number.longValue()) {
            return number.longValue();
        }
        throw new PythonError("str." + name + "() argument " + (i + 1) + " must be an integer");
    }
}
