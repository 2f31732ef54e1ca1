package io.spillway.worker;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A worker whose engine fails: the requests of a failing forward pass get an error event and the worker goes on; a
 * dead engine thread or request consumer turns the liveness component DOWN, so the worker is restarted.
 */
class EngineFailureTest {
    private static final LlamaModel model = TinyModel.MODEL;
    private static final Tokenizer tokenizer = TinyModel.TOKENIZER;
    private static final KvCacheFactory caches = new KvCacheFactory(model, "fp16", KvCacheFactory.Mode.DECODE);

    private static void waitUntil(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(condition.getAsBoolean()).as("within 10 s").isTrue();
    }

    private static RequestConsumer consumer(MockConsumer<byte[], byte[]> kafka, EngineLoop engine) {
        // The poll loop fails before it handles a record, so it needs none of the collaborators that serve one.
        return new RequestConsumer(kafka, null, "spillway.requests", Duration.ofSeconds(1), Duration.ofSeconds(1), engine, null, null, null,
                null, null, 16);
    }

    @Test
    void aConsumerLoopThatFailedMakesTheWorkerDown() throws Exception {
        MockConsumer<byte[], byte[]> kafka = new MockConsumer<>("earliest");
        kafka.setPollException(new KafkaException("the broker refused the group"));
        try (EngineLoop engine = new EngineLoop(new ContinuousBatcher(model, tokenizer, caches, 1, 64), "engine")) {
            RequestConsumer requests = consumer(kafka, engine);
            WorkerLiveness liveness = new WorkerLiveness(requests, engine);
            assertThat(liveness.health().getStatus()).isEqualTo(Status.UP);
            requests.start();
            waitUntil(() -> requests.failure() != null);
            assertThat(liveness.health().getStatus()).isEqualTo(Status.DOWN);
            assertThat(liveness.health().getDetails()).containsEntry("consumer", "org.apache.kafka.common.KafkaException: the broker refused the group");
        }
    }

    @Test
    void anEngineThreadKilledByAnErrorMakesTheWorkerDownButAClosedOneDoesNot() throws Exception {
        EngineLoop engine = new EngineLoop(new ContinuousBatcher(new TinyModel.Hooked(() -> {
            throw new OutOfMemoryError("test: the heap ran out");
        }), tokenizer, caches, 1, 64), "doomed-engine");
        WorkerLiveness liveness = new WorkerLiveness(consumer(new MockConsumer<>("earliest"), engine), engine);
        engine.submit(new GenerationRequest(tokenizer.encode("Once", true), SamplingParams.greedy(2), Set.of()), new UnreadOutput());
        waitUntil(engine::died);
        assertThat(liveness.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(liveness.health().getDetails()).containsEntry("engine", "died");

        EngineLoop closed = new EngineLoop(new ContinuousBatcher(model, tokenizer, caches, 1, 64), "closed-engine");
        closed.close();
        assertThat(new WorkerLiveness(consumer(new MockConsumer<>("earliest"), closed), closed).health().getStatus()).isEqualTo(Status.UP);
    }

    @Test
    void anEngineFailureEndsTheStreamWithAnInternalErrorAndTheEngineGoesOn() throws Exception {
        MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new StringSerializer(), (topic, r) -> new byte[0]);
        EventPublisher events = new EventPublisher(producer, "w1", "spillway.dlq");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ContinuousBatcher batcher = new ContinuousBatcher(new TinyModel.Hooked(() -> {
            throw new IllegalStateException("CUDA error 999: unspecified launch failure");
        }), tokenizer, caches, 4, 256);
        try (EngineLoop loop = new EngineLoop(batcher, "broken-engine"); SessionRegistry sessions = new SessionRegistry(4, 1 << 20, caches, null)) {
            WorkerMetrics metrics = new WorkerMetrics(meters, loop, sessions, new OffsetTracker());
            // The second request shows that the engine's thread outlived the first failure.
            for (String session : List.of("s1", "s2")) {
                InferenceRequest r = WorkerIntegrationTest.completion(session, "Once upon a time", 4, true, 0);
                CountDownLatch done = new CountDownLatch(1);
                GenerationEvents listener = new GenerationEvents(events.stream(r, 0), true, metrics, done::countDown);
                loop.submit(new GenerationRequest(tokenizer.encode("Once upon a time", true), SamplingParams.greedy(4), Set.of()), listener,
                        sessions.acquire(session, "k1", 0));
                assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(sessions.acquire("s1", "k1", 0).tokenCount()).isZero();
        }
        List<InferenceEvent> sent = producer.history().stream().map(r -> (InferenceEvent) r.value()).toList();
        assertThat(sent).extracting(InferenceEvent::getType).containsExactly(EventType.STARTED, EventType.ERROR, EventType.STARTED, EventType.ERROR);
        assertThat(sent.get(1).getError().getCode()).isEqualTo("internal_error");
        assertThat(meters.counter("spillway.worker.requests.failed").count()).isEqualTo(2);
    }
}
