package io.spillway.embedded;

import io.spillway.gateway.GatewayApplication;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.worker.WorkerApplication;
import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import java.util.ArrayList;
import java.util.List;

/** A broker with the topics of docs/KAFKA.md and a registry, for tests that start and stop the services one by one. */
final class TestServices implements AutoCloseable {
    final EmbeddedKafkaKraftBroker kafka;
    final EmbeddedSchemaRegistry registry;

    TestServices(int partitions) {
        kafka = new EmbeddedKafkaKraftBroker(1, partitions);
        EmbeddedSpillway.singleBrokerTransactions(kafka);
        kafka.afterPropertiesSet();
        kafka.addTopics(EmbeddedSpillway.topics(partitions).toArray(NewTopic[]::new));
        registry = EmbeddedSchemaRegistry.start(0);
    }

    ConfigurableApplicationContext worker(String id, String... extra) {
        List<String> args = new ArrayList<>(List.of("--spring.config.name=inference-worker", "--server.port=0",
                "--spillway.worker.worker-id=" + id, "--spillway.worker.model=" + EmbeddedSpillwayTest.model(),
                "--spillway.worker.kafka.commit-interval=200ms", "--spillway.worker.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--spillway.worker.kafka.schema-registry-url=" + registry.url()));
        args.addAll(List.of(extra));
        return new SpringApplicationBuilder(WorkerApplication.class).properties(WorkerApplication.LOGGING).run(args.toArray(String[]::new));
    }

    /** @param apiKeys {@code key:name} pairs, comma-separated */
    ConfigurableApplicationContext gateway(String apiKeys, String... extra) {
        List<String> args = new ArrayList<>(List.of("--spillway.gateway.api-keys=" + apiKeys,
                "--spillway.gateway.models=tiny-llama", "--spillway.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--spillway.schema-registry.url=" + registry.url(), "--spillway.jobs.model=" + EmbeddedSpillwayTest.model()));
        if (java.util.Arrays.stream(extra).noneMatch(a -> a.startsWith("--server.port="))) {
            args.add("--server.port=0");
        }
        args.addAll(List.of(extra));
        return new SpringApplicationBuilder(GatewayApplication.class).properties(WorkerApplication.LOGGING).run(args.toArray(String[]::new));
    }

    static String port(ConfigurableApplicationContext service) {
        return service.getEnvironment().getProperty("local.server.port");
    }

    @Override
    public void close() {
        registry.close();
        kafka.destroy();
    }
}
