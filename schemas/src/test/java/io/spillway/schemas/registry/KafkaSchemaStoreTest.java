package io.spillway.schemas.registry;

import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** Schemas registered through a Kafka-backed registry survive a registry restart with their ids. */
class KafkaSchemaStoreTest {
    private static EmbeddedKafkaKraftBroker kafka;

    @BeforeAll
    static void start() {
        kafka = new EmbeddedKafkaKraftBroker(1, 1);
        kafka.afterPropertiesSet();
    }

    @AfterAll
    static void stop() {
        kafka.destroy();
    }

    @Test
    void aRestartedRegistryServesTheSameIds() {
        int requestId;
        int eventId;
        try (KafkaSchemaStore store = new KafkaSchemaStore(kafka.getBrokersAsString(), "_schemas");
             EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(new InetSocketAddress("127.0.0.1", 0), store)) {
            SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build();
            requestId = client.register("spillway.requests-value", InferenceRequest.getClassSchema());
            eventId = client.register("spillway.events-value", InferenceEvent.getClassSchema());
        }
        try (KafkaSchemaStore store = new KafkaSchemaStore(kafka.getBrokersAsString(), "_schemas");
             EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(new InetSocketAddress("127.0.0.1", 0), store)) {
            SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build();
            assertThat(store.loadAll()).hasSize(2);
            assertThat(client.schemaById(requestId)).isEqualTo(InferenceRequest.getClassSchema());
            assertThat(client.register("spillway.events-value", InferenceEvent.getClassSchema())).isEqualTo(eventId);
        }
    }
}
