package io.spillway.engine.generate;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.sampling.Sampler;
import io.spillway.engine.sampling.StopMatcher;
import io.spillway.engine.tokenizer.StreamingDecoder;

import java.util.Arrays;

/** One request inside the batcher: its cache, how far its prompt is prefilled, and what it has produced. */
final class ActiveSequence implements Generation {
    final GenerationRequest request;
    final GenerationListener listener;
    final KvCache cache;
    final Sampler sampler;
    final StopMatcher stops;
    final StreamingDecoder decoder;
    private int[] history;
    private int historyLength;
    int prefilled;
    final int reused;
    int generated;
    boolean stoppedByString;
    private volatile boolean cancelled;
    private volatile boolean done;

    /** The session whose cache this sequence extends; null for a one-off sequence that owns its cache. */
    final Session session;

    ActiveSequence(GenerationRequest request, GenerationListener listener, Session session, KvCache cache, int prefilled,
                   StreamingDecoder decoder) {
        this.request = request;
        this.listener = listener;
        this.session = session;
        this.cache = cache;
        this.prefilled = prefilled;
        this.reused = prefilled;
        this.decoder = decoder;
        this.sampler = new Sampler(request.params());
        this.stops = new StopMatcher(request.params().stop());
        this.history = Arrays.copyOf(request.prompt(), request.prompt().length + 16);
        this.historyLength = request.prompt().length;
    }

    boolean prefilling() {
        return prefilled < request.prompt().length;
    }

    int lastToken() {
        return history[historyLength - 1];
    }

    int[] history() {
        return history;
    }

    int historyLength() {
        return historyLength;
    }

    void append(int token) {
        if (historyLength == history.length) {
            history = Arrays.copyOf(history, history.length * 2);
        }
        history[historyLength++] = token;
        generated++;
    }

    boolean cancelled() {
        return cancelled;
    }

    void markDone() {
        done = true;
    }

    @Override
    public void cancel() {
        cancelled = true;
    }

    @Override
    public boolean isDone() {
        return done;
    }
}
