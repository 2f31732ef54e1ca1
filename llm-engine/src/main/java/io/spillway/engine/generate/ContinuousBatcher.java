package io.spillway.engine.generate;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.runtime.SamplingDecoder;
import io.spillway.engine.sampling.StopMatcher;
import io.spillway.engine.tokenizer.Tokenizer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Queue;
import java.util.function.Supplier;

/**
 * Continuous batching: every {@link #step} runs one forward pass over all running sequences, their
 * next decode token each plus prompt chunks of newly admitted ones (up to a token budget, so a long
 * prompt cannot stall everyone's decoding). Sequences join and leave between steps.
 *
 * <p>Any thread may submit; one thread at a time steps (an {@link EngineLoop}'s). Only the queue of
 * waiting sequences is locked, never a forward pass: a lock held across back-to-back passes would be
 * taken again by the stepping thread before a submitter got it, and requests would join only once
 * the batch had run dry (seen on a GPU, where a pass is short).
 *
 * <p>A forward pass that throws fails the sequences in it, and only them ({@link GenerationListener#onFailure});
 * their sessions start again from nothing, since how much of the pass reached their caches is unknown. The
 * batcher goes on: the others, and later submissions, still run.
 */
public final class ContinuousBatcher {
    private final Decoder model;
    private final Tokenizer tokenizer;
    private final Supplier<KvCache> caches;
    private final int maxBatch;
    private final int prefillBudget;
    private final Queue<ActiveSequence> waiting = new ArrayDeque<>();
    /** The stepping thread's own; other threads read only {@link #runningCount}. */
    private final List<ActiveSequence> running = new ArrayList<>();
    private volatile int runningCount;
    private volatile int lastBatchSize;

    /**
     * @param maxBatch      most sequences decoding together
     * @param prefillBudget most prompt tokens prefilled in one step
     */
    public ContinuousBatcher(Decoder model, Tokenizer tokenizer, Supplier<KvCache> caches, int maxBatch, int prefillBudget) {
        if (maxBatch < 1 || prefillBudget < 1) {
            throw new IllegalArgumentException("maxBatch and prefillBudget must be positive");
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.caches = caches;
        this.maxBatch = maxBatch;
        this.prefillBudget = prefillBudget;
    }

    /** Queues a request with a cache of its own; it starts at a coming step. */
    public synchronized Generation submit(GenerationRequest request, GenerationListener listener) {
        checkContext(request);
        return enqueue(new ActiveSequence(request, listener, null, caches.get(), 0, tokenizer.streamingDecoder()));
    }

    /**
     * Queues a request that continues {@code session}: the prompt's prefix already in the session's
     * cache is not run again. Rejects prompts that leave no room to generate, and busy sessions.
     */
    public synchronized Generation submit(GenerationRequest request, GenerationListener listener, Session session) {
        checkContext(request);
        int reused = session.claim(request.prompt());
        return enqueue(new ActiveSequence(request, listener, session, session.cache(), reused, tokenizer.streamingDecoder()));
    }

    private void checkContext(GenerationRequest request) {
        int context = model.config().maxPositions();
        if (request.prompt().length >= context) {
            throw new IllegalArgumentException("the prompt has " + request.prompt().length
                    + " tokens; the model's context is " + context + ", leaving no room to generate");
        }
    }

    private Generation enqueue(ActiveSequence seq) {
        waiting.add(seq);
        return seq;
    }

    public boolean hasWork() {
        return waiting() > 0 || runningCount > 0;
    }

    public int running() {
        return runningCount;
    }

    public synchronized int waiting() {
        return waiting.size();
    }

    /** Sequences in the last forward pass. */
    public int lastBatchSize() {
        return lastBatchSize;
    }

    /** Runs steps until every submitted request has finished. */
    public void runUntilIdle() {
        boolean more = true;
        while (more) {
            more = step();
        }
    }

    /** One forward pass over the batch; returns whether work remains. */
    public boolean step() {
        for (ActiveSequence s : admit()) {
            s.listener.onStart();
        }
        dropCancelled();
        if (running.isEmpty()) {
            lastBatchSize = 0;
            return false;
        }
        List<LlamaModel.Step> steps = new ArrayList<>();
        List<ActiveSequence> owners = new ArrayList<>();
        List<Boolean> samples = new ArrayList<>();
        int budget = prefillBudget;
        for (ActiveSequence s : running) {
            if (s.prefilling()) {
                if (budget == 0) {
                    continue;
                }
                int[] prompt = s.request.prompt();
                int n = Math.min(budget, prompt.length - s.prefilled);
                steps.add(new LlamaModel.Step(s.cache, java.util.Arrays.copyOfRange(prompt, s.prefilled, s.prefilled + n), false));
                budget -= n;
                s.prefilled += n;
                samples.add(!s.prefilling());
            } else {
                steps.add(new LlamaModel.Step(s.cache, new int[] {s.lastToken()}, false));
                samples.add(true);
            }
            owners.add(s);
        }
        lastBatchSize = steps.size();
        int[] tokens = null;
        try {
            tokens = forward(steps, owners, samples);
        } catch (RuntimeException e) {
            for (ActiveSequence s : owners) {
                fail(s, e);
            }
        }
        if (tokens != null) {
            for (int i = 0; i < owners.size(); i++) {
                if (samples.get(i)) {
                    advance(owners.get(i), tokens[i]);
                }
            }
        }
        running.removeIf(ActiveSequence::isDone);
        runningCount = running.size();
        return hasWork();
    }

    /** The pass's next token of each sequence that samples (0 for the others). */
    private int[] forward(List<LlamaModel.Step> steps, List<ActiveSequence> owners, List<Boolean> samples) {
        if (model instanceof SamplingDecoder device && owners.stream().noneMatch(s -> s.request.params().usesHistory())) {
            // Tokens are drawn where the logits are; only one id per sequence comes back.
            double[] uniforms = new double[owners.size()];
            for (int i = 0; i < owners.size(); i++) {
                uniforms[i] = samples.get(i) ? owners.get(i).sampler.nextUniform() : 0;
            }
            return device.forwardSampled(steps, owners.stream().map(s -> s.request.params()).toList(), uniforms);
        }
        float[][] logits = model.forward(steps);
        int[] tokens = new int[owners.size()];
        for (int i = 0; i < owners.size(); i++) {
            if (samples.get(i)) {
                ActiveSequence s = owners.get(i);
                tokens[i] = s.sampler.next(logits[i], s.history(), s.historyLength());
            }
        }
        return tokens;
    }

    /**
     * Moves waiting sequences into the batch while it has room, and cancelled ones at once, for dropCancelled to finish;
     * returns the ones that start (their listeners are told outside the lock).
     */
    private synchronized List<ActiveSequence> admit() {
        for (Iterator<ActiveSequence> it = waiting.iterator(); it.hasNext(); ) {
            ActiveSequence s = it.next();
            if (s.cancelled()) {
                it.remove();
                running.add(s);
            }
        }
        List<ActiveSequence> started = new ArrayList<>();
        while (running.size() + started.size() < maxBatch && !waiting.isEmpty()) {
            started.add(waiting.poll());
        }
        running.addAll(started);
        runningCount = running.size();
        return started;
    }

    private void advance(ActiveSequence s, int token) {
        s.append(token);
        if (s.request.eosIds().contains(token)) {
            finish(s, FinishReason.STOP);
            return;
        }
        StopMatcher.Result r = s.stops.append(s.decoder.append(token));
        s.listener.onToken(token, r.text());
        if (r.stopped()) {
            s.stoppedByString = true;
            finish(s, FinishReason.STOP);
        } else if (s.generated >= s.request.params().maxTokens()
                || s.cache.length() + 1 >= model.config().maxPositions()) {
            finish(s, FinishReason.LENGTH);
        }
    }

    private void finish(ActiveSequence s, FinishReason reason) {
        if (reason != FinishReason.CANCELLED && !s.stoppedByString) {
            // Bytes of an unfinished character or a partial stop string are released as they are.
            String tail = s.stops.append(s.decoder.flush()).text() + s.stops.flush();
            if (!tail.isEmpty()) {
                s.listener.onToken(-1, tail);
            }
        }
        if (s.session == null) {
            s.cache.close();
        } else {
            s.session.release(s.history());
        }
        s.markDone();
        s.listener.onFinish(reason, new GenerationListener.Usage(s.request.prompt().length, s.generated, s.reused));
    }

    private void fail(ActiveSequence s, RuntimeException cause) {
        if (s.session == null) {
            s.cache.close();
        } else {
            s.session.reset();
        }
        s.markDone();
        s.listener.onFailure(cause);
    }

    private void dropCancelled() {
        for (Iterator<ActiveSequence> it = running.iterator(); it.hasNext(); ) {
            ActiveSequence s = it.next();
            if (s.cancelled()) {
                it.remove();
                finish(s, FinishReason.CANCELLED);
            }
        }
        runningCount = running.size();
    }
}
