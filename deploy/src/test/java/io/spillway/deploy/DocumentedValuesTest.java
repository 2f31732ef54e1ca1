package io.spillway.deploy;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Every value of the chart has a row in the chart README's table (itself or the map holding it). */
class DocumentedValuesTest {

    @Test
    void everyValueIsInTheReadmeTable() throws IOException {
        Map<String, Object> values = new Yaml().load(Files.readString(RenderedChart.CHART.resolve("values.yaml")));
        String readme = Files.readString(RenderedChart.CHART.resolve("README.md"));
        List<String> paths = new ArrayList<>();
        collect("", values, paths);

        assertThat(paths).hasSizeGreaterThan(50).allSatisfy(path -> assertThat(documented(path, readme))
                .as("%s (or a map holding it) has a row in helm/spillway/README.md", path).isTrue());
    }

    private static boolean documented(String path, String readme) {
        for (String candidate = path; !candidate.isEmpty(); candidate = candidate.contains(".")
                ? candidate.substring(0, candidate.lastIndexOf('.')) : "") {
            if (readme.contains("| `" + candidate + "` |")) {
                return true;
            }
        }
        return false;
    }

    @SuppressWarnings("unchecked")
    private static void collect(String prefix, Map<String, Object> node, List<String> paths) {
        node.forEach((key, value) -> {
            String path = prefix.isEmpty() ? key : prefix + "." + key;
            if (value instanceof Map<?, ?> map && !map.isEmpty()) {
                collect(path, (Map<String, Object>) map, paths);
            } else {
                paths.add(path);
            }
        });
    }
}
