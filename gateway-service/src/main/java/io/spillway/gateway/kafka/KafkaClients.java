package io.spillway.gateway.kafka;

import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.SummarizationJob;
import io.spillway.schemas.kafka.DeliveryConfig;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;

/** Builds the gateway's Kafka clients from {@code spillway.kafka.*}, on one shared schema registry client. */
@Component
public final class KafkaClients implements DisposableBean {

  private final SpillwayProperties.Kafka kafka;
  private final boolean autoRegister;
  private final SchemaRegistryClient registry;

  public KafkaClients(SpillwayProperties properties) {
    this.kafka = properties.kafka();
    this.autoRegister = properties.schemaRegistry().autoRegister();
    this.registry = SchemaRegistryClient.builder(properties.schemaRegistry().url()).build();
  }

  /** Producer of {@code InferenceRequest}s: acks=all and idempotent, failing within {@code send-timeout}. */
  public Producer<String, InferenceRequest> requestProducer() {
    return producer("spillway-gateway-requests");
  }

  /** Producer of {@code SummarizationJob}s, like {@link #requestProducer}. */
  public Producer<String, SummarizationJob> jobProducer() {
    return producer("spillway-gateway-jobs");
  }

  /** The registry client the gateway's serdes share. */
  public SchemaRegistryClient registry() {
    return registry;
  }

  /** Connection settings for clients made elsewhere (the jobs' Kafka Streams). */
  public Map<String, Object> connection() {
    Map<String, Object> config = new HashMap<>();
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    config.putAll(kafka.properties());
    return config;
  }

  private <T extends org.apache.avro.specific.SpecificRecord> Producer<String, T> producer(String clientId) {
    // Each record is a person waiting: sent now rather than batched, and a request that cannot reach Kafka
    // within send-timeout fails with 503, rather than after minutes.
    Map<String, Object> config = DeliveryConfig.producer(kafka.bootstrapServers(), clientId, 0, kafka.sendTimeout(),
        kafka.properties());
    SpillwayAvroSerializer<T> values = new SpillwayAvroSerializer<>(registry);
    values.configure(Map.of(SpillwayAvroSerdeConfig.AUTO_REGISTER_SCHEMAS, autoRegister), false);
    return new KafkaProducer<>(config, new StringSerializer(), values);
  }

  /** Consumer of {@code InferenceEvent}s for assign(): no group, nothing committed. */
  public Consumer<String, InferenceEvent> eventConsumer() {
    Map<String, Object> config = common("spillway-gateway-replies");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    // Topics are made by whoever deploys Kafka; a typo must not create an empty one.
    config.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    config.putAll(kafka.properties());
    return new KafkaConsumer<>(
        config, new StringDeserializer(), new SpillwayAvroDeserializer<>(registry, InferenceEvent.class));
  }

  private Map<String, Object> common(String clientId) {
    Map<String, Object> config = new HashMap<>();
    config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    config.put(CommonClientConfigs.CLIENT_ID_CONFIG, clientId);
    return config;
  }

  @Override
  public void destroy() {
    registry.close();
  }
}
