package io.spillway.worker;

import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.generate.Generation;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.generate.Session;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The worker's Kafka side: one consumer thread polls requests, admits them into the engine's
 * running batch, and commits per partition only below the oldest request not yet finished. Records
 * that cannot be decoded or run go to the dead-letter topic, with an error event to the requester
 * where one can be named; the partition keeps flowing. Back-pressure: while {@code maxQueued} requests wait
 * for a place in the engine's batch, the worker takes no more (its partitions are paused, and records polled
 * but not taken are fetched again later), so the rest stay in Kafka, where the consumer lag shows them and
 * other workers of the group can take their partitions over.
 */
final class RequestConsumer implements SmartLifecycle {
    private static final Logger log = LoggerFactory.getLogger(RequestConsumer.class);

    private record Running(TopicPartition partition, long offset, Generation generation, GenerationEvents events) {
    }

    private final Consumer<byte[], byte[]> consumer;
    private final Deserializer<InferenceRequest> deserializer;
    private final String topic;
    private final Duration commitInterval;
    private final Duration drainTimeout;
    private final EngineLoop engine;
    private final RequestTranslator translator;
    private final SessionRegistry sessions;
    private final EventPublisher events;
    private final OffsetTracker offsets;
    private final WorkerMetrics metrics;
    private final int maxQueued;
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private boolean paused;
    private volatile boolean stopping;
    private volatile String failure;
    private Thread thread;

    /** {@code maxQueued}: requests waiting for the engine's batch beyond which none is taken (at least 1). */
    RequestConsumer(Consumer<byte[], byte[]> consumer, Deserializer<InferenceRequest> deserializer, String topic, Duration commitInterval,
                    Duration drainTimeout, EngineLoop engine, RequestTranslator translator, SessionRegistry sessions, EventPublisher events,
                    OffsetTracker offsets, WorkerMetrics metrics, int maxQueued) {
        if (maxQueued < 1) {
            throw new IllegalArgumentException("spillway.worker.max-queued must be at least 1, not " + maxQueued);
        }
        this.maxQueued = maxQueued;
        this.consumer = consumer;
        this.deserializer = deserializer;
        this.topic = topic;
        this.commitInterval = commitInterval;
        this.drainTimeout = drainTimeout;
        this.engine = engine;
        this.translator = translator;
        this.sessions = sessions;
        this.events = events;
        this.offsets = offsets;
        this.metrics = metrics;
    }

    @Override
    public void start() {
        thread = Thread.ofPlatform().name("spillway-requests").start(this::pollLoop);
    }

    private void pollLoop() {
        consumer.subscribe(List.of(topic), new Rebalance());
        long lastCommit = System.nanoTime();
        try {
            while (!stopping) {
                List<ConsumerRecord<byte[], byte[]>> polled = new ArrayList<>();
                consumer.poll(Duration.ofMillis(100)).forEach(polled::add);
                for (int i = 0; i < polled.size(); i++) {
                    if (queueFull() || !handle(polled.get(i))) {
                        rewind(polled.subList(i, polled.size()));
                        break;
                    }
                }
                pauseWhileQueueFull();
                sessions.enforceLimits();
                if (System.nanoTime() - lastCommit > commitInterval.toNanos()) {
                    commit();
                    lastCommit = System.nanoTime();
                }
            }
            drain();
        } catch (WakeupException e) {
            // stop() during a poll: fall through to close.
        } catch (RuntimeException e) {
            failure = e.toString();
            log.error("request consumer failed; in-flight requests will be re-delivered error={}", failure);
        } finally {
            consumer.close();
        }
    }

    private boolean queueFull() {
        return engine.batcher().waiting() >= maxQueued;
    }

    /**
     * Records polled but not handled go back: each partition's position returns to its first one, so they are
     * fetched again, in order, and none is skipped (a later offset's commit would otherwise pass over them).
     */
    private void rewind(List<ConsumerRecord<byte[], byte[]>> unhandled) {
        Map<TopicPartition, Long> first = new LinkedHashMap<>();
        unhandled.forEach(r -> first.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset()));
        first.forEach(consumer::seek);
    }

    /** Pauses every partition while the engine's queue is full; resumes once it has drained to half. */
    private void pauseWhileQueueFull() {
        int waiting = engine.batcher().waiting();
        if (waiting >= maxQueued) {
            // Partitions assigned since the last pause come unpaused: pause them all again.
            consumer.pause(consumer.assignment());
            if (!paused) {
                log.debug("engine queue full, taking no more requests queued={} maxQueued={}", waiting, maxQueued);
                paused = true;
                metrics.consumptionPaused(true);
            }
        } else if (paused && waiting <= maxQueued / 2) {
            consumer.resume(consumer.paused());
            paused = false;
            metrics.consumptionPaused(false);
            log.debug("engine queue drained, taking requests again queued={}", waiting);
        }
    }

    /** Handles one record; false when it must be polled again later (registry unreachable). */
    private boolean handle(ConsumerRecord<byte[], byte[]> r) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        InferenceRequest request;
        try {
            request = r.value() == null ? null : deserializer.deserialize(r.topic(), r.value());
        } catch (SerializationException e) {
            reject(r, tp, "undecodable: " + e.getMessage(), e);
            return true;
        } catch (SchemaRegistryUnavailableException e) {
            log.warn("schema registry unreachable, retrying partition={} offset={}", r.partition(), r.offset());
            return false;
        }
        if (request == null) {
            reject(r, tp, "empty record value", null);
            return true;
        }
        if ("true".equals(request.getMetadata().get("cancel"))) {
            Running target = running.get(request.getRequestId());
            if (target != null) {
                target.generation().cancel();
            }
            offsets.skipped(tp, r.offset());
            return true;
        }
        if (running.containsKey(request.getRequestId())) {
            // A duplicate of a request already running here (a producer retry): one generation serves both.
            offsets.skipped(tp, r.offset());
            return true;
        }
        EventPublisher.Stream stream = events.stream(request, request.getAttempt());
        try {
            GenerationRequest g = translator.translate(request);
            start(tp, r.offset(), request, g, stream);
        } catch (InvalidRequestException e) {
            reject(r, tp, e.code() + ": " + e.getMessage(), e);
            stream.error(e.code(), e.getMessage());
        }
        return true;
    }

    private void start(TopicPartition tp, long offset, InferenceRequest request, GenerationRequest g, EventPublisher.Stream stream) {
        offsets.started(tp, offset);
        String id = request.getRequestId();
        GenerationEvents listener = new GenerationEvents(stream, request.getStream(), metrics, () -> {
            running.remove(id);
            offsets.done(tp, offset);
        });
        Session session = sessions.acquire(request.getSessionId(), request.getApiKeyId(), tp.partition());
        Generation generation = session == null ? engine.submit(g, listener) : engine.submit(g, listener, session);
        running.put(id, new Running(tp, offset, generation, listener));
        metrics.accepted();
    }

    private void reject(ConsumerRecord<byte[], byte[]> r, TopicPartition tp, String reason, Throwable cause) {
        events.deadLetter(r, reason, cause);
        offsets.skipped(tp, r.offset());
        metrics.rejected();
    }

    private void commit() {
        Map<TopicPartition, OffsetAndMetadata> safe = offsets.commitable();
        if (!safe.isEmpty()) {
            // Events before the offsets: a committed request's events must not be lost with the producer's buffer.
            events.flush();
            consumer.commitSync(safe);
            offsets.committed(safe);
        }
    }

    /**
     * Graceful stop: no new requests; the running ones may finish within the drain timeout, the rest
     * are handed back (cancelled without events, left uncommitted for the next owner), what is safe
     * is committed, and the idle sessions spill so any worker can resume them.
     */
    private void drain() {
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        consumer.pause(consumer.assignment());
        while (!running.isEmpty() && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(100));
        }
        running.values().forEach(RequestConsumer::handBack);
        running.clear();
        commit();
        sessions.spillAll();
    }

    private static void handBack(Running run) {
        run.events().abandon();
        run.generation().cancel();
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            commit();
            // Their unfinished requests will be re-delivered to the new owner: stop spending on them here.
            running.values().removeIf(run -> {
                if (partitions.contains(run.partition())) {
                    handBack(run);
                    return true;
                }
                return false;
            });
            offsets.forget(partitions);
            sessions.release(partitions.stream().filter(tp -> tp.topic().equals(topic)).map(TopicPartition::partition).toList());
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            log.info("assigned partitions={}", partitions);
        }
    }

    @Override
    public void stop() {
        stopping = true;
        try {
            thread.join(drainTimeout.plusSeconds(5).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Why the poll loop ended other than by {@link #stop}; null while it runs or after a stop. */
    String failure() {
        return failure;
    }

    @Override
    public boolean isRunning() {
        return thread != null && thread.isAlive();
    }

    /** Stops before the engine and the producer, which it uses. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 100;
    }
}
