package io.spillway.deploy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** The chart rendered by real Helm ({@code helm template}), parsed into typed Kubernetes objects. */
record RenderedChart(String yaml, List<HasMetadata> objects) {

    static final String RELEASE = "sw";
    static final Path CHART = Repo.root().resolve("helm/spillway");

    /** The values every installation must give (the chart refuses to render without them). */
    static final Map<String, String> REQUIRED = Map.of(
            "kafka.bootstrapServers", "kafka.kafka:9092",
            "schemaRegistry.url", "http://apicurio.registry:8080/apis/ccompat/v7",
            "gateway.apiKeys[0]", "sk-test:ops",
            "spill.tokens[0]", "spill-token-1",
            "spill.tokens[1]", "spill-token-2");

    private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");
    private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

    /**
     * Renders with the required values plus {@code overrides} ({@code --set} syntax and semantics); an override of
     * a list ({@code gateway.apiKeys=null}) replaces the required list's items.
     */
    static RenderedChart render(Map<String, String> overrides) {
        Map<String, String> values = new LinkedHashMap<>(REQUIRED);
        overrides.keySet().forEach(key -> values.keySet().removeIf(required -> required.startsWith(key + "[")));
        values.putAll(overrides);
        TemplateCommand template = new Helm(CHART).template().withName(RELEASE).withNamespace("spillway").withKubeVersion("1.31.0");
        values.forEach(template::set);
        String yaml = template.call();
        List<HasMetadata> objects = new ArrayList<>();
        for (String document : DOCUMENT_SEPARATOR.split(yaml)) {
            if (!document.lines().allMatch(line -> line.isBlank() || line.stripLeading().startsWith("#"))) {
                objects.add(SERIALIZATION.unmarshal(document, HasMetadata.class));
            }
        }
        return new RenderedChart(yaml, List.copyOf(objects));
    }

    /** What {@code helm install} prints (client-only dry run): status and NOTES.txt. */
    static String installNotes(Map<String, String> overrides) {
        Map<String, String> values = new LinkedHashMap<>(REQUIRED);
        values.putAll(overrides);
        InstallCommand install = new Helm(CHART).install().withName(RELEASE).withNamespace("spillway").withKubeVersion("1.31.0")
                .clientOnly().dryRun();
        values.forEach(install::set);
        return install.call().getOutput();
    }

    static RenderedChart render() {
        return render(Map.of());
    }

    List<String> kinds() {
        return objects.stream().map(HasMetadata::getKind).sorted().toList();
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
        return objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new NoSuchElementException(type.getSimpleName() + " " + name + " not rendered: " + kinds()));
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** A custom resource (KEDA, Prometheus Operator): no typed model, so generic. */
    GenericKubernetesResource custom(String kind, String name) {
        return objects.stream().filter(o -> o instanceof GenericKubernetesResource && o.getKind().equals(kind))
                .map(GenericKubernetesResource.class::cast).filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new NoSuchElementException(kind + " " + name + " not rendered: " + kinds()));
    }

    boolean has(String kind) {
        return objects.stream().anyMatch(o -> o.getKind().equals(kind));
    }

    Deployment deployment(String component) {
        return get(Deployment.class, RELEASE + "-spillway-" + component);
    }

    Container container(String component) {
        return deployment(component).getSpec().getTemplate().getSpec().getContainers().getFirst();
    }

    /** A container's plain-valued environment (secret references map to {@code secret:NAME/KEY}). */
    Map<String, String> env(String component) {
        return container(component).getEnv().stream().collect(Collectors.toMap(EnvVar::getName, RenderedChart::valueOf,
                (a, b) -> { throw new IllegalStateException("environment variable set twice: " + a + ", " + b); }, LinkedHashMap::new));
    }

    private static String valueOf(EnvVar env) {
        if (env.getValueFrom() == null) {
            return env.getValue();
        }
        if (env.getValueFrom().getSecretKeyRef() != null) {
            return "secret:" + env.getValueFrom().getSecretKeyRef().getName() + "/" + env.getValueFrom().getSecretKeyRef().getKey();
        }
        return "field:" + env.getValueFrom().getFieldRef().getFieldPath();
    }
}
