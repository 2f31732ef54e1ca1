package io.spillway.gateway;

import io.spillway.gateway.kafka.RequestPublisher;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Plays the inference worker for the gateway's tests: reads {@code spillway.requests} and answers
 * each request with the events of a {@link Script}, on the request's reply partition. It records
 * every record it reads, cancellations included, and stops a script when its request is cancelled
 * (FINISHED cancelled), as the real worker does.
 */
final class FakeWorker {

  private final KafkaConsumer<String, InferenceRequest> consumer;
  // Bytes, so that a script can also send a record that is not an event at all.
  private final KafkaProducer<String, byte[]> producer;
  private final SpillwayAvroSerializer<InferenceEvent> events = new SpillwayAvroSerializer<>();
  private final List<InferenceRequest> received = new CopyOnWriteArrayList<>();
  private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
  private volatile Function<InferenceRequest, Script> scripts = request -> Script.text("Hello", ", ", "world", "!");

  FakeWorker(String bootstrapServers, String registryUrl) {
    // Kafka does not configure serde instances handed to it.
    Map<String, String> serde = Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
    SpillwayAvroDeserializer<InferenceRequest> requests = new SpillwayAvroDeserializer<>(InferenceRequest.class);
    requests.configure(serde, false);
    events.configure(serde, false);
    consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
            new StringDeserializer(),
            requests);
    producer =
        new KafkaProducer<>(
            Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.LINGER_MS_CONFIG, 0),
            new StringSerializer(),
            new ByteArraySerializer());
    List<TopicPartition> partitions =
        consumer.partitionsFor(KafkaTestCluster.REQUESTS).stream()
            .map(p -> new TopicPartition(p.topic(), p.partition()))
            .toList();
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position); // positioned before any test sends a request
    Thread.ofPlatform().name("fake-worker").daemon().start(this::poll);
  }

  /** How to answer the requests that come next. */
  void answer(Function<InferenceRequest, Script> scripts) {
    this.scripts = scripts;
  }

  /** Every record read from spillway.requests so far, cancellations included. */
  List<InferenceRequest> received() {
    return received;
  }

  /** Runs for the rest of the test JVM, as the broker does. */
  private void poll() {
    while (true) {
      for (ConsumerRecord<String, InferenceRequest> record : consumer.poll(Duration.ofMillis(100))) {
        InferenceRequest request = record.value();
        received.add(request);
        if ("true".equals(request.getMetadata().get(RequestPublisher.CANCEL))) {
          cancelled.add(request.getRequestId());
        } else {
          Script script = scripts.apply(request);
          Thread.ofVirtual().start(() -> play(request, script));
        }
      }
    }
  }

  private void play(InferenceRequest request, Script script) {
    try {
      for (Script.Step step : script.steps()) {
        Thread.sleep(step.pause());
        if (cancelled.contains(request.getRequestId())) {
          send(request, new Script.Step(EventType.FINISHED, step.attempt(), step.seq(), null, "cancelled", null, null, null));
          return;
        }
        send(request, step);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      throw new IllegalStateException("fake worker could not answer", e);
    }
  }

  private void send(InferenceRequest request, Script.Step step) throws Exception {
    if (step.type() == null) {
      send(request, "not an Avro event".getBytes(StandardCharsets.UTF_8));
      return;
    }
    InferenceEvent event =
        InferenceEvent.newBuilder()
            .setRequestId(request.getRequestId())
            .setSessionId(request.getSessionId())
            .setAttempt(step.attempt())
            .setSeq(step.seq())
            .setType(step.type())
            .setDeltaText(step.text())
            .setTokenIds(step.type() == EventType.DELTA ? List.of(100 + step.seq()) : List.of())
            .setFinishReason(step.finishReason())
            .setUsage(step.usage())
            .setError(step.error())
            .setWorkerId("fake-worker")
            .setTimestampMs(System.currentTimeMillis())
            .build();
    send(request, events.serialize(request.getReplyTopic(), event));
  }

  private void send(InferenceRequest request, byte[] value) throws Exception {
    producer
        .send(new ProducerRecord<>(request.getReplyTopic(), request.getReplyPartition(), request.getRequestId(), value))
        .get();
  }
}
