package io.spillway.worker;

import io.spillway.engine.generate.FinishReason;
import io.spillway.engine.generate.GenerationListener;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one generation's tokens into events: a DELTA per token when the client streams, one DELTA
 * with the whole text otherwise, then FINISHED; ERROR {@code internal_error} when the engine failed on it (the
 * session starts again, so a retry with the whole conversation gives a fresh session's answer). Abandoned (its
 * partition went to another worker, which will run the request again), it sends nothing more and never reports the
 * request done.
 */
final class GenerationEvents implements GenerationListener {
    private static final Logger log = LoggerFactory.getLogger(GenerationEvents.class);
    private final EventPublisher.Stream stream;
    private final boolean streaming;
    private final WorkerMetrics metrics;
    private final Runnable onDone;
    private final long startedNanos = System.nanoTime();
    private final StringBuilder text = new StringBuilder();
    private final List<Integer> ids = new ArrayList<>();
    private boolean first = true;
    private volatile boolean abandoned;

    GenerationEvents(EventPublisher.Stream stream, boolean streaming, WorkerMetrics metrics, Runnable onDone) {
        this.stream = stream;
        this.streaming = streaming;
        this.metrics = metrics;
        this.onDone = onDone;
    }

    void abandon() {
        abandoned = true;
    }

    @Override
    public void onStart() {
        if (!abandoned) {
            stream.started();
        }
    }

    @Override
    public void onToken(int tokenId, String delta) {
        if (first) {
            first = false;
            metrics.firstToken(System.nanoTime() - startedNanos);
        }
        metrics.token();
        if (abandoned) {
            return;
        }
        List<Integer> tokenIds = tokenId >= 0 ? List.of(tokenId) : List.of();
        if (streaming) {
            if (!delta.isEmpty() || tokenId >= 0) {
                stream.delta(delta, tokenIds);
            }
        } else {
            text.append(delta);
            ids.addAll(tokenIds);
        }
    }

    @Override
    public void onFinish(FinishReason reason, Usage usage) {
        // A handed-back request is not done: its offset must stay uncommitted for the next owner.
        if (abandoned) {
            return;
        }
        try {
            if (!streaming) {
                stream.delta(text.toString(), ids);
            }
            stream.finished(reason.apiName(), usage.promptTokens(), usage.completionTokens(), usage.cachedTokens());
        } finally {
            onDone.run();
        }
    }

    @Override
    public void onFailure(RuntimeException cause) {
        metrics.failed();
        // The exception's class and message only: neither carries the prompt or KV data.
        log.error("generation failed in the engine requestId={} error={}", stream.requestId(), cause.toString());
        if (abandoned) {
            return;
        }
        try {
            stream.error("internal_error", "the engine failed while running this request; its session was reset, so a retry"
                    + " runs the whole conversation again");
        } finally {
            onDone.run();
        }
    }
}
