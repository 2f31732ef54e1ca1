package io.spillway.deploy;

import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.spill.SpillProperties;
import io.spillway.worker.WorkerProperties;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The environment variables the chart and docker-compose.yml give each service bind, through Spring Boot's own
 * binder, to that service's properties record, and every one of them under the service's prefix is used: a
 * renamed property fails here rather than being silently ignored in a deployment.
 */
class EnvironmentBindingTest {

    private static final Pattern KUBELET_REFERENCE = Pattern.compile("\\$\\(([A-Z0-9_]+)\\)");
    private static final Pattern COMPOSE_DEFAULT = Pattern.compile("\\$\\{[A-Z0-9_]+:-([^}]*)}");

    @Test
    void chartEnvironmentBindsToEveryService() {
        RenderedChart chart = RenderedChart.render(Map.of("kafka.security.protocol", "SASL_SSL",
                "kafka.security.sasl.username", "spillway", "kafka.security.sasl.password", "pw",
                "kafka.security.tls.caCert", "PEM", "kafka.extraProperties.client\\.dns\\.lookup", "use_all_dns_ips",
                "gateway.config.spillway\\.gateway\\.first-token-timeout", "90s", "worker.config.spillway\\.worker\\.prefill-budget", "512",
                "worker.kvBudget", "4GB"));

        SpillwayProperties gateway = bind(kubelet(chart.env("gateway")), "spillway", SpillwayProperties.class);
        assertThat(gateway.kafka().bootstrapServers()).isEqualTo("kafka.kafka:9092");
        assertThat(gateway.kafka().properties()).containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("sasl.mechanism", "SCRAM-SHA-512").containsEntry("ssl.truststore.type", "PEM")
                .containsEntry("client.dns.lookup", "use_all_dns_ips")
                .containsEntry("sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"<secret:kafka-sasl-username>\" password=\"<secret:kafka-sasl-password>\";");
        assertThat(gateway.schemaRegistry().url()).isEqualTo("http://apicurio.registry:8080/apis/ccompat/v7");
        assertThat(gateway.topics().requests()).isEqualTo("spillway.requests");
        assertThat(gateway.topics().events()).isEqualTo("spillway.events");
        assertThat(gateway.gateway().apiKeys()).containsExactly("<secret:api-keys>");
        assertThat(gateway.gateway().models()).containsExactly("tiny-llama");
        assertThat(gateway.gateway().firstTokenTimeout()).isEqualTo(Duration.ofSeconds(90));
        assertThat(gateway.jobs().advertisedEndpoint()).isEqualTo("<field:status.podIP>:8080");

        WorkerProperties worker = bind(kubelet(chart.env("worker")), "spillway.worker", WorkerProperties.class);
        assertThat(worker.model()).isEqualTo(Path.of("/opt/spillway/models/tiny-llama"));
        assertThat(worker.modelName()).isEqualTo("tiny-llama");
        assertThat(worker.kv()).isEqualTo("rotatekv2");
        assertThat(worker.maxBatch()).isEqualTo(8);
        assertThat(worker.maxQueued()).isEqualTo(16);
        assertThat(worker.prefillBudget()).isEqualTo(512);
        assertThat(worker.workerId()).isEqualTo("<field:metadata.name>");
        assertThat(worker.kafka().bootstrapServers()).isEqualTo("kafka.kafka:9092");
        assertThat(worker.kafka().schemaRegistryUrl()).isEqualTo("http://apicurio.registry:8080/apis/ccompat/v7");
        assertThat(worker.kafka().groupId()).isEqualTo("spillway-workers");
        assertThat(worker.kafka().requestsTopic()).isEqualTo("spillway.requests");
        assertThat(worker.kafka().deadLetterTopic()).isEqualTo("spillway.requests.dlq");
        assertThat(worker.kafka().sessionsTopic()).isEqualTo("spillway.sessions");
        assertThat(worker.kvBudget().toGigabytes()).isEqualTo(4);
        assertThat(worker.spill().url()).isEqualTo("http://sw-spillway-spill:8083");
        assertThat(worker.spill().token()).isEqualTo("<secret:spill-worker-token>");

        SpillProperties spill = bind(kubelet(chart.env("spill")), "spillway.spill", SpillProperties.class);
        assertThat(spill.tokens()).containsExactly("<secret:spill-tokens>");
        assertThat(spill.dir()).isEqualTo(Path.of("/var/lib/spillway/spills"));
        assertThat(spill.ttl()).isEqualTo(Duration.ofDays(7));
        assertThat(spill.maxBytes().toGigabytes()).isEqualTo(1);
    }

    @Test
    @SuppressWarnings("unchecked")
    void composeEnvironmentBindsToEveryService() throws IOException {
        Map<String, Object> compose = new Yaml().load(Files.readString(Repo.root().resolve("docker-compose.yml")));
        Map<String, Map<String, Object>> services = (Map<String, Map<String, Object>>) compose.get("services");

        SpillwayProperties gateway = bind(composeEnv(services.get("gateway")), "spillway", SpillwayProperties.class);
        assertThat(gateway.kafka().bootstrapServers()).isEqualTo("kafka:9092");
        assertThat(gateway.schemaRegistry().url()).isEqualTo("http://registry:8080/apis/ccompat/v7");
        assertThat(gateway.gateway().apiKeys()).containsExactly("sk-spillway-local:local");

        for (String name : List.of("worker", "worker-cpu")) {
            WorkerProperties worker = bind(composeEnv(services.get(name)), "spillway.worker", WorkerProperties.class);
            assertThat(worker.model()).isEqualTo(Path.of("/opt/spillway/models/tiny-llama"));
            assertThat(worker.kafka().bootstrapServers()).isEqualTo("kafka:9092");
            assertThat(worker.kafka().schemaRegistryUrl()).isEqualTo("http://registry:8080/apis/ccompat/v7");
            assertThat(worker.spill().url()).isEqualTo("http://spill:8083");
            assertThat(worker.spill().token()).isEqualTo("spill-local-token");
        }

        SpillProperties spill = bind(composeEnv(services.get("spill")), "spillway.spill", SpillProperties.class);
        assertThat(spill.tokens()).containsExactly("spill-local-token");
    }

    /** Binds like Spring Boot binds a service's environment, failing on any variable under {@code prefix} left unbound. */
    private static <T> T bind(Map<String, String> env, String prefix, Class<T> type) {
        Map<String, Object> source = new LinkedHashMap<>(env);
        MutablePropertySources sources = new MutablePropertySources();
        sources.addFirst(new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, source));
        Binder binder = new Binder(ConfigurationPropertySources.from(sources));
        return binder.bindOrCreate(prefix, Bindable.of(type),
                new NoUnboundElementsBindHandler(BindHandler.DEFAULT));
    }

    /** What the kubelet hands the container: secrets and fields as placeholders, {@code $(VAR)} expanded. */
    private static Map<String, String> kubelet(Map<String, String> env) {
        Map<String, String> resolved = new LinkedHashMap<>();
        env.forEach((name, value) -> {
            String plain = value.startsWith("secret:") ? "<secret:" + value.substring(value.lastIndexOf('/') + 1) + ">"
                    : value.startsWith("field:") ? "<" + value + ">" : value;
            Matcher reference = KUBELET_REFERENCE.matcher(plain);
            resolved.put(name, reference.replaceAll(m -> Matcher.quoteReplacement(resolved.getOrDefault(m.group(1), m.group()))));
        });
        return resolved;
    }

    /** A compose service's environment with {@code ${VAR:-default}} at its defaults. */
    private static Map<String, String> composeEnv(Map<String, Object> service) {
        Map<String, String> env = new LinkedHashMap<>();
        ((Map<?, ?>) service.get("environment")).forEach((name, value) ->
                env.put(name.toString(), COMPOSE_DEFAULT.matcher(value.toString()).replaceAll(m -> Matcher.quoteReplacement(m.group(1)))));
        return env;
    }
}
