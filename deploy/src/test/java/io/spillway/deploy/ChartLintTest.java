package io.spillway.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code helm lint --strict}, on the chart as shipped and with the required values set. helm-java's lint takes no
 * values, so the second lints a copy whose values.yaml has them added.
 */
class ChartLintTest {

    @Test
    void lintPassesWithTheRequiredValues(@TempDir Path dir) throws IOException {
        Path chart = copyChart(dir);
        Map<String, Object> values = new Yaml().load(Files.readString(chart.resolve("values.yaml")));
        set(values, "kafka.bootstrapServers", "kafka:9092");
        set(values, "schemaRegistry.url", "http://apicurio:8080/apis/ccompat/v7");
        set(values, "gateway.apiKeys", java.util.List.of("sk-lint"));
        set(values, "spill.tokens", java.util.List.of("spill-lint"));
        Files.writeString(chart.resolve("values.yaml"), new Yaml().dump(values));

        LintResult result = new Helm(chart).lint().strict().call();

        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
    }

    /** Lint mode lets {@code required} pass empty, so the shipped defaults lint as they are. */
    @Test
    void lintPassesOnTheShippedChart() {
        LintResult result = new Helm(RenderedChart.CHART).lint().strict().call();

        assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
    }

    @SuppressWarnings("unchecked")
    private static void set(Map<String, Object> values, String path, Object value) {
        String[] keys = path.split("\\.");
        Map<String, Object> node = values;
        for (int i = 0; i < keys.length - 1; i++) {
            node = (Map<String, Object>) node.computeIfAbsent(keys[i], k -> new LinkedHashMap<>());
        }
        node.put(keys[keys.length - 1], value);
    }

    private static Path copyChart(Path dir) throws IOException {
        Path target = dir.resolve("spillway");
        try (Stream<Path> files = Files.walk(RenderedChart.CHART)) {
            files.forEach(source -> {
                try {
                    Path copy = target.resolve(RenderedChart.CHART.relativize(source).toString());
                    if (Files.isDirectory(source)) {
                        Files.createDirectories(copy);
                    } else {
                        Files.copy(source, copy);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return target;
    }
}
