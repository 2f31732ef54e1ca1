package io.spillway.engine.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Jinja template's text rewritten so that Jinjava reads it as Jinja2 would.
 *
 * <p>Bridged here, before Jinjava sees the text:
 * <ul>
 *   <li>Jinja2 turns every line break into {@code \n} and (with transformers' default
 *       {@code keep_trailing_newline=False}) drops one trailing newline of the source. Jinjava is
 *       told to keep it, and it is dropped here, so that output ending in a newline is not cut.</li>
 *   <li>Jinja2 decodes string literals with Python's {@code unicode-escape}
 *       ({@code '\n'}, {@code '\u2581'}, {@code '\x41'}, {@code '\N{BULLET}'}), and HF templates stored in
 *       JSON often contain such escapes ({@code "'<|im_start|>system\\n'"}). Jinjava's EL knows only
 *       {@code \\} and the escaped quote, and rejects other escapes. Literals inside {@code {{ }}}
 *       and {@code {% %}} (not text, comments or {@code {% raw %}} blocks) are decoded here and written
 *       back with EL's escapes.</li>
 * </ul>
 *
 * <p>Jinjava numbers lines without the newlines inside string literals and those that
 * {@code trim_blocks} removes after a block tag or comment, and gives an error the line where its
 * tag ends: {@link #originalLines} maps its numbers back to the lines of the template.
 *
 * @param text           what Jinjava renders
 * @param hiddenNewlines for each newline Jinjava does not count, ascending, the line it counts at it
 */
record TemplateSource(String text, int[] hiddenNewlines) {

    private static final Pattern RAW_TAG = Pattern.compile("\\{%[-+]?\\s*raw\\s*[-+]?%}");
    private static final Pattern END_RAW = Pattern.compile("\\{%[-+]?\\s*endraw\\b");
    private static final Pattern UNICODE_NAME = Pattern.compile("\\{[A-Za-z0-9 \\-]+}");

    static TemplateSource of(String template) {
        String source = template.replace("\r\n", "\n").replace('\r', '\n');
        if (source.endsWith("\n")) {
            source = source.substring(0, source.length() - 1);
        }
        return new Rewriter(source).rewrite();
    }

    /**
     * The lines of the template that Jinjava's line {@code line} covers: one line, or several where
     * Jinjava counted some newlines out.
     */
    String originalLines(int line) {
        int before = 0;
        while (before < hiddenNewlines.length && hiddenNewlines[before] < line) {
            before++;
        }
        int through = before;
        while (through < hiddenNewlines.length && hiddenNewlines[through] == line) {
            through++;
        }
        return before == through ? "line " + (line + before) : "lines " + (line + before) + "-" + (line + through);
    }

    private static final class Rewriter {
        private final String src;
        private final StringBuilder out;
        private final List<Integer> hiddenNewlines = new ArrayList<>();
        /** The line Jinjava counts at {@link #pos}. */
        private int line = 1;
        private int pos;

        Rewriter(String src) {
            this.src = src;
            this.out = new StringBuilder(src.length());
        }

        TemplateSource rewrite() {
            while (pos < src.length()) {
                if (src.startsWith("{#", pos)) {
                    int end = src.indexOf("#}", pos + 2);
                    copyTo(end < 0 ? src.length() : end + 2);
                    trimmedNewline();
                } else if (src.startsWith("{{", pos)) {
                    code("}}");
                } else if (src.startsWith("{%", pos)) {
                    boolean raw = RAW_TAG.matcher(src).region(pos, src.length()).lookingAt();
                    code("%}");
                    trimmedNewline();
                    if (raw) {
                        Matcher end = END_RAW.matcher(src);
                        copyTo(end.find(pos) ? end.start() : src.length());
                    }
                } else {
                    copyTo(pos + 1);
                }
            }
            return new TemplateSource(out.toString(), hiddenNewlines.stream().mapToInt(Integer::intValue).toArray());
        }

        /** Copies a tag or expression up to and including {@code close}, rewriting its literals. */
        private void code(String close) {
            copyTo(pos + 2);
            while (pos < src.length() && !src.startsWith(close, pos)) {
                char c = src.charAt(pos);
                if (c == '\'' || c == '"') {
                    literal(c);
                } else {
                    copyTo(pos + 1);
                }
            }
            copyTo(Math.min(pos + 2, src.length()));
        }

        /** Jinjava's trim_blocks takes the newline after a block tag or comment without counting it. */
        private void trimmedNewline() {
            if (pos < src.length() && src.charAt(pos) == '\n') {
                hiddenNewlines.add(line);
                out.append('\n');
                pos++;
            }
        }

        private void literal(char quote) {
            copyTo(pos + 1);
            while (pos < src.length() && src.charAt(pos) != quote) {
                char c = src.charAt(pos);
                if (c == '\\' && pos + 1 < src.length()) {
                    escape(quote);
                } else {
                    if (c == '\n') {
                        hiddenNewlines.add(line);
                    }
                    append(c, quote);
                    pos++;
                }
            }
            copyTo(Math.min(pos + 1, src.length()));
        }

        /** Decodes the escape at {@link #pos} as Python's unicode-escape codec does, and moves past it. */
        private void escape(char quote) {
            char e = src.charAt(pos + 1);
            if (e == '\n') {
                // A backslash before a line break joins the lines.
                hiddenNewlines.add(line);
                pos += 2;
                return;
            }
            int length = switch (e) {
                case 'x' -> 4;
                case 'u' -> 6;
                case 'U' -> 10;
                case 'N' -> namedLength();
                default -> isOctal(e) ? octalLength() : 2;
            };
            int cp = switch (e) {
                case '\\', '\'', '"' -> e;
                case 'n' -> '\n';
                case 't' -> '\t';
                case 'r' -> '\r';
                case 'f' -> '\f';
                case 'b' -> '\b';
                case 'v' -> 0x0B;
                case 'a' -> 0x07;
                case 'x', 'u', 'U' -> hex(pos + 2, pos + length);
                case 'N' -> length == 0 ? -1 : codePointNamed(src.substring(pos + 3, pos + length - 1));
                default -> isOctal(e) ? Integer.parseInt(src, pos + 1, pos + length, 8) : -1;
            };
            if (cp < 0) {
                // Python keeps an unknown escape as written: the backslash, then the character.
                append('\\', quote);
                pos++;
                return;
            }
            if (Character.isBmpCodePoint(cp)) {
                append((char) cp, quote);
            } else {
                out.appendCodePoint(cp);
            }
            pos += length;
        }

        private static boolean isOctal(char c) {
            return c >= '0' && c <= '7';
        }

        /** The length of an octal escape: a backslash and one to three octal digits. */
        private int octalLength() {
            int end = pos + 1;
            while (end < src.length() && end < pos + 4 && isOctal(src.charAt(end))) {
                end++;
            }
            return end - pos;
        }

        /** The length of a \N{NAME} escape, or 0 when no name follows. */
        private int namedLength() {
            Matcher name = UNICODE_NAME.matcher(src).region(pos + 2, src.length());
            return name.lookingAt() ? name.end() - pos : 0;
        }

        /** The code point of the hex digits in [start, end), or -1. */
        private int hex(int start, int end) {
            if (end > src.length()) {
                return -1;
            }
            int cp = 0;
            for (int i = start; i < end; i++) {
                char c = src.charAt(i);
                int d = c < 128 ? Character.digit(c, 16) : -1;
                if (d < 0) {
                    return -1;
                }
                cp = cp * 16 + d;
            }
            return Character.isValidCodePoint(cp) ? cp : -1;
        }

        private static int codePointNamed(String name) {
            try {
                return Character.codePointOf(name);
            } catch (IllegalArgumentException unknown) {
                return -1;
            }
        }

        /** Appends a character of a literal's value, escaped for an EL literal quoted with {@code quote}. */
        private void append(char c, char quote) {
            if (c == '\\' || c == quote) {
                out.append('\\');
            }
            out.append(c);
        }

        private void copyTo(int end) {
            for (int i = pos; i < end; i++) {
                char c = src.charAt(i);
                out.append(c);
                if (c == '\n') {
                    line++;
                }
            }
            pos = end;
        }
    }
}
