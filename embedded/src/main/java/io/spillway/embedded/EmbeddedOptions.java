package io.spillway.embedded;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Options of {@code bin/spillway up}.
 *
 * @param kafkaPort    0 picks a free port
 * @param registryPort 0 picks a free port
 * @param dataDir      where the broker keeps its log (a fresh temporary folder by default)
 * @param apiKey       the Bearer key the gateway accepts ({@code SPILLWAY_API_KEY}, or a local default)
 */
public record EmbeddedOptions(int httpPort, int kafkaPort, int registryPort, int workerPort, int partitions, Path model, String kv,
                              Path dataDir, String apiKey) {

    static EmbeddedOptions parse(String[] args) {
        int http = 8080;
        int kafka = 9092;
        int registry = 8081;
        int worker = 8082;
        int partitions = 6;
        Path model = EmbeddedSpillway.home().resolve("models/tiny-llama");
        String kv = "rotatekv2";
        Path data = null;
        String apiKey = System.getenv().getOrDefault("SPILLWAY_API_KEY", "sk-spillway-local");
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
            String v = args[++i];
            switch (a) {
                case "--port" -> http = Integer.parseInt(v);
                case "--kafka-port" -> kafka = Integer.parseInt(v);
                case "--registry-port" -> registry = Integer.parseInt(v);
                case "--worker-port" -> worker = Integer.parseInt(v);
                case "--partitions" -> partitions = Integer.parseInt(v);
                case "--model" -> model = Path.of(v);
                case "--kv" -> kv = v;
                case "--data-dir" -> data = Path.of(v);
                case "--api-key" -> apiKey = v;
                default -> throw new IllegalArgumentException("unknown option " + a
                        + " (--port, --kafka-port, --registry-port, --worker-port, --partitions, --model, --kv, --data-dir, --api-key)");
            }
        }
        try {
            return new EmbeddedOptions(http, kafka, registry, worker, partitions, model, kv,
                    data != null ? data : Files.createTempDirectory("spillway-embedded"), apiKey);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
