package io.spillway.engine.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code --name value} and {@code --flag} options of one subcommand, checked against what it accepts. */
final class Args {
    private final String command;
    private final Map<String, List<String>> values = new LinkedHashMap<>();

    private Args(String command) {
        this.command = command;
    }

    static Args parse(String command, String[] argv, int from, Set<String> options, Set<String> flags) {
        Args a = new Args(command);
        for (int i = from; i < argv.length; i++) {
            String arg = argv[i];
            if (!arg.startsWith("--")) {
                throw new UsageException(command + ": unexpected argument '" + arg + "'");
            }
            String name = arg.substring(2);
            String value = null;
            int eq = name.indexOf('=');
            if (eq >= 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (flags.contains(name)) {
                if (value != null) {
                    throw new UsageException(command + ": --" + name + " takes no value");
                }
                value = "true";
            } else if (options.contains(name)) {
                if (value == null) {
                    if (i + 1 >= argv.length) {
                        throw new UsageException(command + ": --" + name + " needs a value");
                    }
                    value = argv[++i];
                }
            } else {
                throw new UsageException(command + ": unknown option --" + name + " (see " + command + " --help)");
            }
            a.values.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return a;
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    String string(String name, String fallback) {
        List<String> v = values.get(name);
        return v == null ? fallback : v.getLast();
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    Path path(String name, Path fallback) {
        return has(name) ? Path.of(string(name, null)) : fallback;
    }

    int integer(String name, int fallback) {
        if (!has(name)) {
            return fallback;
        }
        try {
            return Integer.parseInt(string(name, null));
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " expects an integer, got '" + string(name, null) + "'");
        }
    }

    long longValue(String name, long fallback) {
        if (!has(name)) {
            return fallback;
        }
        try {
            return Long.parseLong(string(name, null));
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " expects an integer, got '" + string(name, null) + "'");
        }
    }

    double number(String name, double fallback) {
        if (!has(name)) {
            return fallback;
        }
        try {
            return Double.parseDouble(string(name, null));
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " expects a number, got '" + string(name, null) + "'");
        }
    }

    int[] integers(String name, int[] fallback) {
        if (!has(name)) {
            return fallback;
        }
        try {
            return java.util.Arrays.stream(string(name, null).split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        } catch (NumberFormatException e) {
            throw new UsageException(command + ": --" + name + " expects comma-separated integers, got '" + string(name, null) + "'");
        }
    }
}
