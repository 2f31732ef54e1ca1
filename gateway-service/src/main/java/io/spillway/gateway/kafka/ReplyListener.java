package io.spillway.gateway.kafka;

import io.spillway.gateway.GatewayMetrics;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordDeserializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Reads this instance's reply partitions of {@code spillway.events} ({@code assign}, no group) and
 * hands each event to the {@link ReplyDispatcher}. It starts at the end of each partition: events
 * written before this instance started answer requests nobody here is waiting for. Until the
 * partitions are assigned and positioned (Kafka may be down at start) it keeps retrying and
 * {@link #ready()} is false, so requests get 503 rather than replies that would never be read.
 */
@Component
public final class ReplyListener implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(ReplyListener.class);
  private static final Duration POLL = Duration.ofMillis(500);
  private static final Duration KAFKA_CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration RETRY_BACKOFF = Duration.ofSeconds(2);

  private final KafkaClients clients;
  private final ReplyDispatcher dispatcher;
  private final GatewayMetrics metrics;
  private final String topic;
  private final List<Integer> configuredPartitions;
  private final AtomicInteger nextPartition = new AtomicInteger();

  private volatile boolean running;
  private volatile List<Integer> ownedPartitions = List.of();
  private volatile Consumer<String, InferenceEvent> consumer;
  private Thread thread;

  public ReplyListener(
      KafkaClients clients, ReplyDispatcher dispatcher, GatewayMetrics metrics, SpillwayProperties properties) {
    this.clients = clients;
    this.dispatcher = dispatcher;
    this.metrics = metrics;
    this.topic = properties.topics().events();
    this.configuredPartitions = List.copyOf(properties.gateway().replyPartitions());
  }

  /** Whether replies can be received: partitions assigned and positioned at their end. */
  public boolean ready() {
    return !ownedPartitions.isEmpty();
  }

  /** The reply partitions this instance reads; empty until {@link #ready()}. */
  public List<Integer> ownedPartitions() {
    return ownedPartitions;
  }

  /** The reply topic, where requests ask workers to answer. */
  public String topic() {
    return topic;
  }

  /** One of the owned partitions, round robin, for the next request to name as its reply partition. */
  public int nextReplyPartition() {
    List<Integer> owned = ownedPartitions;
    if (owned.isEmpty()) {
      throw new IllegalStateException("no reply partition assigned yet");
    }
    return owned.get(Math.floorMod(nextPartition.getAndIncrement(), owned.size()));
  }

  /**
   * Below the web server's phases: started before it serves, and stopped only after its graceful
   * shutdown has let running requests finish, which needs their replies.
   */
  @Override
  public int getPhase() {
    return SmartLifecycle.DEFAULT_PHASE - 4096;
  }

  @Override
  public synchronized void start() {
    running = true;
    thread = Thread.ofPlatform().name("reply-listener").start(this::run);
  }

  @Override
  public synchronized void stop() {
    running = false;
    Consumer<String, InferenceEvent> current = consumer;
    if (current != null) {
      current.wakeup();
    }
    try {
      thread.join(KAFKA_CALL_TIMEOUT.toMillis() * 2);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  private void run() {
    try (Consumer<String, InferenceEvent> kafka = clients.eventConsumer()) {
      consumer = kafka;
      while (running) {
        try {
          if (ownedPartitions.isEmpty() && !assign(kafka)) {
            Thread.sleep(RETRY_BACKOFF);
            continue;
          }
          for (ConsumerRecord<String, InferenceEvent> record : kafka.poll(POLL)) {
            if (record.value() != null) { // a tombstone answers nothing
              dispatcher.deliver(record.value());
            }
          }
        } catch (RecordDeserializationException e) {
          skipOrRetry(kafka, e);
        } catch (WakeupException e) {
          // stop() asked; the loop condition ends it
        } catch (KafkaException e) {
          log.atWarn().setCause(e).log("reading replies failed; retrying");
          Thread.sleep(RETRY_BACKOFF);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      ownedPartitions = List.of();
      consumer = null;
    }
  }

  private boolean assign(Consumer<String, InferenceEvent> kafka) {
    List<PartitionInfo> partitions;
    try {
      partitions = kafka.partitionsFor(topic, KAFKA_CALL_TIMEOUT);
    } catch (KafkaException e) {
      log.atWarn().addKeyValue("topic", topic).addKeyValue("error", e.toString()).log("Kafka not reachable; retrying");
      return false;
    }
    if (partitions.isEmpty()) {
      log.atWarn().addKeyValue("topic", topic).log("reply topic does not exist yet; retrying");
      return false;
    }
    List<Integer> chosen =
        configuredPartitions.isEmpty()
            ? partitions.stream().map(PartitionInfo::partition).sorted().toList()
            : configuredPartitions;
    if (!chosen.stream().allMatch(p -> p >= 0 && p < partitions.size())) {
      log.atError()
          .addKeyValue("topic", topic)
          .addKeyValue("partitions", partitions.size())
          .addKeyValue("replyPartitions", chosen)
          .log("spillway.gateway.reply-partitions names partitions the topic does not have; retrying");
      return false;
    }
    List<TopicPartition> assigned = chosen.stream().map(p -> new TopicPartition(topic, p)).toList();
    kafka.assign(assigned);
    kafka.seekToEnd(assigned);
    try {
      // seekToEnd is lazy: resolve the positions now, so an event written after ready() is never skipped.
      assigned.forEach(tp -> kafka.position(tp, KAFKA_CALL_TIMEOUT));
    } catch (KafkaException e) {
      log.atWarn().addKeyValue("topic", topic).addKeyValue("error", e.toString()).log("cannot position on reply partitions; retrying");
      kafka.unsubscribe();
      return false;
    }
    ownedPartitions = chosen;
    log.atInfo().addKeyValue("topic", topic).addKeyValue("replyPartitions", chosen).log("reading reply partitions");
    return true;
  }

  /**
   * An event that cannot be decoded: if the registry is unreachable it is retried; otherwise it is
   * skipped and its request (the record key) fails at once instead of waiting for its timeout.
   */
  private void skipOrRetry(Consumer<String, InferenceEvent> kafka, RecordDeserializationException e)
      throws InterruptedException {
    if (e.getCause() instanceof SchemaRegistryUnavailableException) {
      log.atWarn().addKeyValue("error", e.getCause().toString()).log("schema registry unreachable; retrying the event");
      Thread.sleep(RETRY_BACKOFF);
      return;
    }
    log.atError()
        .addKeyValue("partition", e.topicPartition().toString())
        .addKeyValue("offset", e.offset())
        .setCause(e)
        .log("undecodable event skipped");
    metrics.eventDropped("undecodable");
    kafka.seek(e.topicPartition(), e.offset() + 1);
    if (e.keyBuffer() != null) {
      dispatcher.fail(StandardCharsets.UTF_8.decode(e.keyBuffer().duplicate()).toString());
    }
  }
}
