package io.spillway.embedded;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Options of {@code bin/spillway up}.
 *
 * @param registryPort 0 picks a free port
 * @param dataDir      where the broker keeps its log (a fresh temporary folder by default)
 * @param apiKey       the Bearer key the gateway accepts ({@code SPILLWAY_API_KEY}, or a local default)
 */
public record EmbeddedOptions(int httpPort, int registryPort, int workerPort, int spillPort, int partitions, Path model,
                              String kv, Path dataDir, String apiKey) {
    /** The key {@code bin/spillway up} accepts unless told otherwise. */
    public static final String DEFAULT_API_KEY = "sk-spillway-local";


    static final String USAGE = """
            usage: bin/spillway up [options]
              --port N            gateway HTTP port (8080)
              --registry-port N   schema registry port (8081)
              --worker-port N     worker actuator port (8082)
              --spill-port N      spill service port (8083)
              --partitions N      partitions of the request and event topics (6)
              --model DIR         Hugging Face model directory (models/tiny-llama)
              --kv METHOD         KV method of the worker (rotatekv2)
              --data-dir DIR      where the broker keeps its log (a new temporary folder)
              --api-key KEY       the accepted Bearer key ($SPILLWAY_API_KEY, else sk-spillway-local)
            Port 0 picks a free port.
            """;

    /** Parses the command line; an empty Optional after printing the usage for --help. */
    static java.util.Optional<EmbeddedOptions> parseOrHelp(String[] args) {
        if (java.util.Arrays.asList(args).contains("--help")) {
            System.out.print(USAGE);
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(parse(args));
    }

    static EmbeddedOptions parse(String[] args) {
        int http = 8080;
        int registry = 8081;
        int worker = 8082;
        int spill = 8083;
        int partitions = 6;
        Path model = EmbeddedSpillway.home().resolve("models/tiny-llama");
        String kv = "rotatekv2";
        Path data = null;
        String apiKey = System.getenv().getOrDefault("SPILLWAY_API_KEY", DEFAULT_API_KEY);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--port" -> http = port(a, v);
                case "--registry-port" -> registry = port(a, v);
                case "--worker-port" -> worker = port(a, v);
                case "--spill-port" -> spill = port(a, v);
                case "--partitions" -> partitions = Math.max(1, port(a, v));
                case "--model" -> model = Path.of(v);
                case "--kv" -> kv = v;
                case "--data-dir" -> data = Path.of(v);
                case "--api-key" -> apiKey = v;
                default -> throw new IllegalArgumentException("unknown option " + a
                        + " (--port, --registry-port, --worker-port, --spill-port, --partitions, --model, --kv, --data-dir, --api-key)");
            }
        }
        if (!java.nio.file.Files.isDirectory(model)) {
            throw new IllegalArgumentException("--model: " + model + " is not a model directory");
        }
        try {
            return new EmbeddedOptions(http, registry, worker, spill, partitions, model, kv,
                    data != null ? data : Files.createTempDirectory("spillway-embedded"), apiKey);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static int port(String option, String value) {
        try {
            int n = Integer.parseInt(value);
            if (n < 0 || n > 65535) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + " expects a number from 0 to 65535, got '" + value + "'");
        }
    }
}
