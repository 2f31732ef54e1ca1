package io.spillway.gateway;

import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

/**
 * One in-process KRaft broker and schema registry for the whole test run: every Spring test class
 * shares one application context (the same configuration), and that context is bound to them.
 * Both topics have two partitions, so the gateway owns two reply partitions.
 */
final class KafkaTestCluster {

  static final String REQUESTS = "spillway.requests";
  static final String EVENTS = "spillway.events";

  private static EmbeddedKafkaKraftBroker broker;
  private static EmbeddedSchemaRegistry registry;

  private KafkaTestCluster() {}

  static synchronized void start() {
    if (broker != null) {
      return;
    }
    broker = new EmbeddedKafkaKraftBroker(1, 2, REQUESTS, EVENTS);
    broker.afterPropertiesSet();
    registry = EmbeddedSchemaRegistry.start(0);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  registry.close();
                  broker.destroy();
                }));
  }

  static String bootstrapServers() {
    return broker.getBrokersAsString();
  }

  static String registryUrl() {
    return registry.url();
  }
}
