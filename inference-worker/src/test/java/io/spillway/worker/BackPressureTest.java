package io.spillway.worker;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.sampling.GenerationConfig;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A worker takes requests from Kafka only while the engine's queue has room: beyond {@code max-queued} waiting
 * requests its partitions pause, and what it polled but did not take is fetched again later, in order. None is lost,
 * none is started twice.
 */
class BackPressureTest {
    private static final String TOPIC = "spillway.requests";
    private static final KvCacheFactory caches = new KvCacheFactory(TinyModel.MODEL, "fp16", KvCacheFactory.Mode.DECODE);

    /** A consumer over a fixed log, as a broker keeps one: seeking back fetches the records from there again. */
    private static final class LogConsumer extends MockConsumer<byte[], byte[]> {
        private final List<ConsumerRecord<byte[], byte[]>> log = new ArrayList<>();

        LogConsumer() {
            super("earliest");
        }

        /** Appends one record to partition {@code p}'s log; the value is the request's index. */
        synchronized void append(int p, int index) {
            long offset = log.stream().filter(r -> r.partition() == p).count();
            ConsumerRecord<byte[], byte[]> r = new ConsumerRecord<>(TOPIC, p, offset, null, new byte[] {(byte) index});
            log.add(r);
            addRecord(r);
        }

        @Override
        public synchronized void seek(TopicPartition tp, long offset) {
            super.seek(tp, offset);
            // MockConsumer drops what a poll returned: hand the records from the new position over again.
            log.stream().filter(r -> r.partition() == tp.partition() && r.offset() >= offset).forEach(this::addRecord);
        }
    }

    /** The tiny model, each forward pass waiting until the gate opens. */
    private static Decoder gated(CountDownLatch gate) {
        return new TinyModel.Hooked(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        });
    }

    private static void waitUntil(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(condition.getAsBoolean()).as("within 30 s").isTrue();
    }

    private record Worker(RequestConsumer consumer, EngineLoop engine, SessionRegistry sessions, MockProducer<String, SpecificRecord> producer,
                          SimpleMeterRegistry meters) implements AutoCloseable {
        List<InferenceEvent> events(EventType type) {
            return producer.history().stream().map(r -> (InferenceEvent) r.value()).filter(e -> e.getType() == type).toList();
        }

        @Override
        public void close() throws InterruptedException {
            consumer.stop();
            engine.close();
            sessions.close();
        }
    }

    private static Worker worker(LogConsumer kafka, Deserializer<InferenceRequest> requests, Decoder decoder, int maxQueued,
                                 List<TopicPartition> partitions) {
        Map<TopicPartition, Long> beginning = new HashMap<>();
        partitions.forEach(tp -> beginning.put(tp, 0L));
        kafka.updateBeginningOffsets(beginning);
        kafka.schedulePollTask(() -> kafka.rebalance(partitions));
        MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new StringSerializer(), (topic, r) -> new byte[0]);
        EngineLoop engine = new EngineLoop(new ContinuousBatcher(decoder, TinyModel.TOKENIZER, caches, 1, 64), "back-pressure-engine");
        SessionRegistry sessions = new SessionRegistry(16, 1 << 26, caches, null);
        OffsetTracker offsets = new OffsetTracker();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        RequestTranslator translator = new RequestTranslator(TinyModel.TOKENIZER, Optional.empty(),
                GenerationConfig.load(WorkerIntegrationTest.modelDir()), "tiny-llama", 256);
        RequestConsumer consumer = new RequestConsumer(kafka, requests, TOPIC, Duration.ofMillis(50), Duration.ofSeconds(1), engine, translator,
                sessions, new EventPublisher(producer, "w1", "spillway.requests.dlq"), offsets, new WorkerMetrics(meters, engine, sessions, offsets),
                maxQueued);
        consumer.start();
        return new Worker(consumer, engine, sessions, producer, meters);
    }

    private static List<InferenceRequest> requests(int n) {
        List<InferenceRequest> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(WorkerIntegrationTest.completion("s" + i, "Once upon a time", 2, false, 0));
        }
        return out;
    }

    @Test
    void aFullEngineQueuePausesConsumptionAndEveryRequestIsServedOnceInOrder() throws Exception {
        List<InferenceRequest> sent = requests(8);
        LogConsumer kafka = new LogConsumer();
        TopicPartition p0 = new TopicPartition(TOPIC, 0);
        CountDownLatch gate = new CountDownLatch(1);
        try (Worker w = worker(kafka, (topic, bytes) -> sent.get(bytes[0]), gated(gate), 2, List.of(p0))) {
            kafka.schedulePollTask(() -> sent.forEach(r -> kafka.append(0, sent.indexOf(r))));
            // One request in the (stuck) forward pass and two waiting: the rest stay in the log. Only the one in the
            // batch has started.
            waitUntil(() -> w.engine().batcher().waiting() == 2 && kafka.paused().contains(p0));
            assertThat(w.events(EventType.STARTED)).extracting(InferenceEvent::getRequestId).containsExactly(sent.get(0).getRequestId());
            assertThat(kafka.position(p0)).isEqualTo(3);
            assertThat(w.meters().get("spillway.worker.consumption.paused").gauge().value()).isEqualTo(1);

            gate.countDown();
            waitUntil(() -> w.events(EventType.FINISHED).size() == sent.size());
            assertThat(w.events(EventType.STARTED)).extracting(InferenceEvent::getRequestId)
                    .containsExactlyElementsOf(sent.stream().map(InferenceRequest::getRequestId).toList());
            waitUntil(() -> kafka.paused().isEmpty() && w.meters().get("spillway.worker.consumption.paused").gauge().value() == 0);
            waitUntil(() -> kafka.committed(Set.of(p0)).get(p0) != null && kafka.committed(Set.of(p0)).get(p0).offset() == sent.size());
        }
    }

    @Test
    void recordsPolledAfterOneThatMustWaitAreFetchedAgainOnEveryPartition() throws Exception {
        List<InferenceRequest> sent = requests(4);
        LogConsumer kafka = new LogConsumer();
        AtomicBoolean registryDown = new AtomicBoolean(true);
        // The first record polled cannot be decoded once: it and everything polled after it, on both partitions, come again.
        Deserializer<InferenceRequest> requests = (topic, bytes) -> {
            if (registryDown.getAndSet(false)) {
                throw new SchemaRegistryUnavailableException("registry down", 503, 50301);
            }
            return sent.get(bytes[0]);
        };
        List<TopicPartition> partitions = List.of(new TopicPartition(TOPIC, 0), new TopicPartition(TOPIC, 1));
        try (Worker w = worker(kafka, requests, gated(new CountDownLatch(0)), 16, partitions)) {
            kafka.schedulePollTask(() -> {
                kafka.append(0, 0);
                kafka.append(0, 1);
                kafka.append(1, 2);
                kafka.append(1, 3);
            });
            waitUntil(() -> w.events(EventType.FINISHED).size() == sent.size());
            assertThat(w.events(EventType.STARTED)).extracting(InferenceEvent::getRequestId)
                    .containsExactlyInAnyOrderElementsOf(sent.stream().map(InferenceRequest::getRequestId).toList());
            assertThat(registryDown).isFalse();
        }
    }

    @Test
    void maxQueuedBelowOneIsRefusedByName() {
        assertThatThrownBy(() -> new RequestConsumer(new MockConsumer<>("earliest"), null, TOPIC, Duration.ofSeconds(1), Duration.ofSeconds(1),
                null, null, null, null, null, null, 0))
                .hasMessage("spillway.worker.max-queued must be at least 1, not 0");
    }
}
