package io.spillway.worker;

import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.EngineLoop;
import io.spillway.engine.generate.GenerationListener;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Status;

import java.time.Duration;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** The liveness component that gets a worker restarted when it would otherwise stay up serving nothing. */
class WorkerLivenessTest {
    private static LlamaModel model;
    private static Tokenizer tokenizer;
    private static KvCacheFactory caches;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(WorkerIntegrationTest.modelDir());
        tokenizer = Tokenizer.load(WorkerIntegrationTest.modelDir());
        caches = new KvCacheFactory(model, "fp16", KvCacheFactory.Mode.DECODE);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The tiny model's shape, with a forward pass that throws an Error, which no engine code catches. */
    private static final class FatalDecoder implements Decoder {
        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public float[][] forward(List<LlamaModel.Step> steps) {
            throw new OutOfMemoryError("test: the heap ran out");
        }

        @Override
        public void close() {
        }
    }

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
                null, null);
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
        EngineLoop engine = new EngineLoop(new ContinuousBatcher(new FatalDecoder(), tokenizer, caches, 1, 64), "doomed-engine");
        WorkerLiveness liveness = new WorkerLiveness(consumer(new MockConsumer<>("earliest"), engine), engine);
        engine.submit(new GenerationRequest(tokenizer.encode("Once", true), SamplingParams.greedy(2), Set.of()), new GenerationListener() {
            @Override
            public void onToken(int tokenId, String text) {
            }

            @Override
            public void onFinish(io.spillway.engine.generate.FinishReason reason, Usage usage) {
            }

            @Override
            public void onFailure(RuntimeException cause) {
            }
        });
        waitUntil(engine::died);
        assertThat(liveness.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(liveness.health().getDetails()).containsEntry("engine", "died");

        EngineLoop closed = new EngineLoop(new ContinuousBatcher(model, tokenizer, caches, 1, 64), "closed-engine");
        closed.close();
        assertThat(new WorkerLiveness(consumer(new MockConsumer<>("earliest"), closed), closed).health().getStatus()).isEqualTo(Status.UP);
    }
}
