package io.spillway.engine.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.objects.SafeString;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code tojson} as transformers defines it for chat templates: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}. Jinjava's own
 * {@code tojson} writes compact JSON ({@code {"a":1}} instead of {@code {"a": 1}}) and ignores
 * {@code indent}, which changes the tokens of every tool schema a template prints.
 * {@code separators} is not supported.
 */
final class PythonJsonFilter implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return filter(var, interpreter, args, Map.of());
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        for (String key : kwargs.keySet()) {
            if (!key.equals("indent") && !key.equals("sort_keys") && !key.equals("ensure_ascii")) {
                throw new PythonError("tojson: argument '" + key + "' is not supported");
            }
        }
        Object indent = args.length > 0 ? args[0] : kwargs.get("indent");
        if (indent != null && !(indent instanceof Number)) {
            throw new PythonError("tojson: indent must be an integer, not " + indent);
        }
        var writer = new Writer(
                indent == null ? -1 : Math.max(0, ((Number) indent).intValue()),
                Boolean.TRUE.equals(kwargs.get("sort_keys")),
                Boolean.TRUE.equals(kwargs.get("ensure_ascii")));
        writer.value(var, 0);
        return writer.out.toString();
    }

    /** Python's {@code repr(float)}: shortest round-trip digits, exponent outside [1e-4, 1e16). */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return 1 / d > 0 ? "0.0" : "-0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = exact.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }

    private static final class Writer {
        private final StringBuilder out = new StringBuilder();
        private final int indent;
        private final boolean sortKeys;
        private final boolean ensureAscii;

        Writer(int indent, boolean sortKeys, boolean ensureAscii) {
            this.indent = indent;
            this.sortKeys = sortKeys;
            this.ensureAscii = ensureAscii;
        }

        void value(Object v, int depth) {
            switch (v) {
                case null -> out.append("null");
                case Boolean b -> out.append(b);
                case Byte _, Short _, Integer _, Long _, BigInteger _ -> out.append(v);
                case Number n -> out.append(pythonFloat(n.doubleValue()));
                case CharSequence s -> string(s.toString());
                case SafeString s -> string(s.toString());
                case Map<?, ?> map -> object(map, depth);
                case Iterable<?> items -> array(items, depth);
                case Object[] items -> array(Arrays.asList(items), depth);
                default -> throw new PythonError(
                        "tojson: cannot serialize a " + v.getClass().getSimpleName());
            }
        }

        private void object(Map<?, ?> map, int depth) {
            Map<?, ?> entries = sortKeys ? new TreeMap<>(map) : map;
            out.append('{');
            boolean first = true;
            for (var e : entries.entrySet()) {
                separator(first, depth + 1);
                first = false;
                string(String.valueOf(e.getKey()));
                out.append(": ");
                value(e.getValue(), depth + 1);
            }
            close(first, depth, '}');
        }

        private void array(Iterable<?> items, int depth) {
            out.append('[');
            boolean first = true;
            for (Object item : items) {
                separator(first, depth + 1);
                first = false;
                value(item, depth + 1);
            }
            close(first, depth, ']');
        }

        private void separator(boolean first, int depth) {
            if (!first) {
                out.append(indent < 0 ? ", " : ",");
            }
            newline(depth);
        }

        private void close(boolean empty, int depth, char bracket) {
            if (!empty) {
                newline(depth);
            }
            out.append(bracket);
        }

        private void newline(int depth) {
            if (indent >= 0) {
                out.append('\n').repeat(" ", indent * depth);
            }
        }

        private void string(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    case '\b' -> out.append("\\b");
                    case '\f' -> out.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7f)) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }
    }
}
