package io.spillway.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.spillway.engine.generate.EngineLoop;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** The worker's meters: queue depth, running and hot sessions, batch sizes, tokens, time to first token, paused consumption. */
final class WorkerMetrics {
    private final Counter tokens;
    private final Counter requests;
    private final Counter rejected;
    private final Counter failed;
    private final Timer timeToFirstToken;
    private final DistributionSummary batchSize;
    private final EngineLoop engine;
    private final AtomicInteger consumptionPaused = new AtomicInteger();

    WorkerMetrics(MeterRegistry registry, EngineLoop engine, SessionRegistry sessions, OffsetTracker offsets) {
        this.engine = engine;
        this.tokens = Counter.builder("spillway.worker.tokens.generated").register(registry);
        this.requests = Counter.builder("spillway.worker.requests").register(registry);
        this.rejected = Counter.builder("spillway.worker.requests.rejected").register(registry);
        this.failed = Counter.builder("spillway.worker.requests.failed").description("requests the engine failed on").register(registry);
        this.timeToFirstToken = Timer.builder("spillway.worker.time.to.first.token").publishPercentiles(0.5, 0.99).register(registry);
        this.batchSize = DistributionSummary.builder("spillway.worker.batch.size").description("sequences in the forward pass of each generated token")
                .register(registry);
        Gauge.builder("spillway.worker.queue.depth", engine.batcher(), b -> b.waiting()).register(registry);
        Gauge.builder("spillway.worker.sequences.running", engine.batcher(), b -> b.running()).register(registry);
        Gauge.builder("spillway.worker.sessions.hot", sessions, SessionRegistry::size).register(registry);
        Gauge.builder("spillway.worker.sessions.hot.bytes", sessions, SessionRegistry::hotBytes).baseUnit("bytes").register(registry);
        Gauge.builder("spillway.worker.requests.in.flight", offsets, OffsetTracker::inFlight).register(registry);
        Gauge.builder("spillway.worker.consumption.paused", consumptionPaused, AtomicInteger::get)
                .description("1 while the engine's queue is full and the worker takes no requests").register(registry);
    }

    void token() {
        tokens.increment();
        batchSize.record(engine.batcher().lastBatchSize());
    }

    void firstToken(long nanos) {
        timeToFirstToken.record(Duration.ofNanos(nanos));
    }

    void consumptionPaused(boolean paused) {
        consumptionPaused.set(paused ? 1 : 0);
    }

    void accepted() {
        requests.increment();
    }

    void rejected() {
        rejected.increment();
    }

    void failed() {
        failed.increment();
    }

    double largestBatch() {
        return batchSize.max();
    }
}
