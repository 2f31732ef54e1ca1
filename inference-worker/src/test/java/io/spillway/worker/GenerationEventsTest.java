package io.spillway.worker;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What a request's client sees when the engine fails on it: an error event, and a worker that goes on serving. */
class GenerationEventsTest {
    private static LlamaModel model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(WorkerIntegrationTest.modelDir());
        tokenizer = Tokenizer.load(WorkerIntegrationTest.modelDir());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The tiny model's shape, with forward passes that throw as a lost device's do. */
    private static final class BrokenDecoder implements Decoder {
        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public float[][] forward(List<LlamaModel.Step> steps) {
            throw new IllegalStateException("CUDA error 999: unspecified launch failure");
        }

        @Override
        public void close() {
        }
    }

    @Test
    void anEngineFailureEndsTheStreamWithAnInternalErrorAndTheEngineGoesOn() throws Exception {
        MockProducer<String, SpecificRecord> producer = new MockProducer<>(true, null, new StringSerializer(), (topic, r) -> new byte[0]);
        EventPublisher events = new EventPublisher(producer, "w1", "spillway.dlq");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        KvCacheFactory caches = new KvCacheFactory(model, "fp16", KvCacheFactory.Mode.DECODE);
        ContinuousBatcher batcher = new ContinuousBatcher(new BrokenDecoder(), tokenizer, caches, 4, 256);
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
        assertThat(sent).extracting(InferenceEvent::getType).containsExactly(EventType.ERROR, EventType.ERROR);
        assertThat(sent.getFirst().getError().getCode()).isEqualTo("internal_error");
        assertThat(meters.counter("spillway.worker.requests.failed").count()).isEqualTo(2);
    }
}
