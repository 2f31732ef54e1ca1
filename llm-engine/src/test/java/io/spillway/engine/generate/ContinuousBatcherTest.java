package io.spillway.engine.generate;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.runtime.SamplingDecoder;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.testing.TinyLlama;
import io.spillway.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ContinuousBatcherTest {
    private static LlamaModel model;
    private static Tokenizer tokenizer;
    private static JsonNode prompts;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TinyLlama.modelDir());
        tokenizer = Tokenizer.load(TinyLlama.modelDir());
        prompts = TinyLlama.reference().get("prompts");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Collects one generation's output. */
    static class Collector implements GenerationListener {
        final List<Integer> ids = new ArrayList<>();
        final StringBuilder text = new StringBuilder();
        FinishReason reason;
        Usage usage;
        RuntimeException failure;
        int finishes;
        int starts;
        boolean tokenBeforeStart;

        @Override
        public void onStart() {
            starts++;
        }

        @Override
        public void onToken(int tokenId, String t) {
            tokenBeforeStart |= starts == 0;
            if (tokenId >= 0) {
                ids.add(tokenId);
            }
            text.append(t);
        }

        @Override
        public void onFinish(FinishReason r, Usage u) {
            reason = r;
            usage = u;
            finishes++;
        }

        @Override
        public void onFailure(RuntimeException cause) {
            failure = cause;
            finishes++;
        }
    }

    private static ContinuousBatcher batcher(int maxBatch, int prefillBudget) {
        return new ContinuousBatcher(model, tokenizer, () -> model.newCache(DenseKvCache.Precision.F32), maxBatch, prefillBudget);
    }

    @Test
    void concurrentSequencesWithChunkedPrefillReproduceTheReference() {
        ContinuousBatcher b = batcher(4, 7);
        List<Collector> out = new ArrayList<>();
        for (JsonNode p : prompts) {
            Collector c = new Collector();
            out.add(c);
            b.submit(new GenerationRequest(TinyLlama.ints(p.get("input_ids")), SamplingParams.greedy(32), Set.of()), c);
        }
        int largest = 0;
        while (b.step()) {
            largest = Math.max(largest, b.lastBatchSize());
        }
        assertThat(largest).isEqualTo(4);
        for (int i = 0; i < out.size(); i++) {
            JsonNode p = prompts.get(i);
            assertThat(out.get(i).ids).containsExactly(java.util.Arrays.stream(TinyLlama.ints(p.get("greedy_ids"))).boxed().toArray(Integer[]::new));
            assertThat(out.get(i).text.toString()).isEqualTo(p.get("greedy_text").asText());
            assertThat(out.get(i).reason).isEqualTo(FinishReason.LENGTH);
            assertThat(out.get(i).usage).isEqualTo(new GenerationListener.Usage(p.get("input_ids").size(), 32, 0));
            assertThat(out.get(i).finishes).isEqualTo(1);
        }
    }

    @Test
    void batchSizeIsCappedAndQueuedRequestsStillFinish() {
        ContinuousBatcher b = batcher(2, 512);
        List<Collector> out = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Collector c = new Collector();
            out.add(c);
            b.submit(new GenerationRequest(TinyLlama.ints(prompts.get(i % 4).get("input_ids")), SamplingParams.greedy(3 + i), Set.of()), c);
        }
        while (b.step()) {
            assertThat(b.lastBatchSize()).isLessThanOrEqualTo(2);
        }
        for (int i = 0; i < 5; i++) {
            assertThat(out.get(i).ids).hasSize(3 + i);
        }
    }

    @Test
    void aGenerationStartsWhenItEntersTheBatchAndNotIfCancelledWhileWaiting() {
        ContinuousBatcher b = batcher(1, 512);
        int[] prompt = TinyLlama.ints(prompts.get(0).get("input_ids"));
        Collector first = new Collector(), second = new Collector(), dropped = new Collector();
        b.submit(new GenerationRequest(prompt, SamplingParams.greedy(3), Set.of()), first);
        b.submit(new GenerationRequest(prompt, SamplingParams.greedy(3), Set.of()), second);
        b.step();
        assertThat(first.starts).isEqualTo(1);
        assertThat(second.starts).isZero();
        b.submit(new GenerationRequest(prompt, SamplingParams.greedy(3), Set.of()), dropped).cancel();
        b.runUntilIdle();
        assertThat(List.of(first.starts, second.starts, dropped.starts)).containsExactly(1, 1, 0);
        assertThat(first.tokenBeforeStart || second.tokenBeforeStart).isFalse();
        assertThat(second.ids).hasSize(3);
        assertThat(dropped.reason).isEqualTo(FinishReason.CANCELLED);
    }

    /** A decoder whose first forward pass waits for the test, so a submission can arrive during it. */
    private static final class HeldDecoder implements Decoder {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public float[][] forward(List<LlamaModel.Step> steps) {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return model.forward(steps);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aSubmissionDuringAForwardPassReturnsAtOnceAndJoinsTheNextStep() throws Exception {
        HeldDecoder held = new HeldDecoder();
        ContinuousBatcher b = new ContinuousBatcher(held, tokenizer, () -> model.newCache(DenseKvCache.Precision.F32), 4, 512);
        int[] prompt = TinyLlama.ints(prompts.get(0).get("input_ids"));
        Collector first = new Collector();
        Collector second = new Collector();
        b.submit(new GenerationRequest(prompt, SamplingParams.greedy(4), Set.of()), first);
        Generation g;
        try (EngineLoop loop = new EngineLoop(b, "held")) {
            try {
                assertThat(held.entered.await(30, TimeUnit.SECONDS)).isTrue();
                CompletableFuture<Generation> submitted = CompletableFuture.supplyAsync(
                        () -> loop.submit(new GenerationRequest(prompt, SamplingParams.greedy(4), Set.of()), second));
                // Would time out while the pass holds a lock that submissions need.
                g = submitted.get(10, TimeUnit.SECONDS);
                assertThat(b.waiting()).isEqualTo(1);
            } finally {
                held.release.countDown();
            }
        }
        assertThat(g.isDone()).isTrue();
        assertThat(second.ids).isEqualTo(first.ids).hasSize(4);
        assertThat(second.usage.promptTokens()).isEqualTo(prompt.length);
    }

    /** The CPU model, except that forward pass number {@code failing} (from 1) throws, as a device error would. */
    private static final class FailingDecoder implements Decoder {
        final int failing;
        int passes;

        FailingDecoder(int failing) {
            this.failing = failing;
        }

        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public float[][] forward(List<LlamaModel.Step> steps) {
            if (++passes == failing) {
                throw new IllegalStateException("device lost");
            }
            return model.forward(steps);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aForwardPassThatThrowsFailsOnlyItsSequencesAndTheirSessionsStartAgain() {
        ContinuousBatcher b = new ContinuousBatcher(new FailingDecoder(3), tokenizer, () -> model.newCache(DenseKvCache.Precision.F32), 2, 512);
        int[] p0 = TinyLlama.ints(prompts.get(0).get("input_ids"));
        int[] p1 = TinyLlama.ints(prompts.get(1).get("input_ids"));
        int[] greedy = TinyLlama.ints(prompts.get(0).get("greedy_ids"));
        try (Session session = new Session("s3", () -> model.newCache(DenseKvCache.Precision.F32))) {
            Collector inSession = new Collector();
            Collector alone = new Collector();
            Collector queued = new Collector();
            b.submit(new GenerationRequest(p0, SamplingParams.greedy(8), Set.of()), inSession, session);
            b.submit(new GenerationRequest(p1, SamplingParams.greedy(8), Set.of()), alone);
            // The batch holds two: this one waits, out of the failing pass.
            b.submit(new GenerationRequest(p0, SamplingParams.greedy(4), Set.of()), queued);
            b.runUntilIdle();

            assertThat(inSession.failure).hasMessage("device lost");
            assertThat(alone.failure).isSameAs(inSession.failure);
            assertThat(List.of(inSession.finishes, alone.finishes)).containsOnly(1);
            assertThat(inSession.reason).isNull();
            // Passes 1 and 2 gave a token each before pass 3 threw.
            assertThat(inSession.ids).containsExactly(greedy[0], greedy[1]);
            assertThat(queued.failure).isNull();
            assertThat(queued.ids).isEqualTo(java.util.Arrays.stream(greedy, 0, 4).boxed().toList());
            assertThat(session.busy()).isFalse();
            assertThat(session.tokenCount()).isZero();

            Collector again = new Collector();
            b.submit(new GenerationRequest(p0, SamplingParams.greedy(4), Set.of()), again, session);
            b.runUntilIdle();
            assertThat(again.ids).isEqualTo(queued.ids);
            assertThat(again.usage.cachedTokens()).isZero();
        }
    }

    @Test
    void stopStringEndsTheGenerationBeforeIt() {
        JsonNode p = prompts.get(0);
        String full = p.get("greedy_text").asText();
        Collector c = new Collector();
        ContinuousBatcher b = batcher(1, 512);
        b.submit(new GenerationRequest(TinyLlama.ints(p.get("input_ids")), SamplingParams.greedy(32).withStop(List.of("thinking")), Set.of()), c);
        b.runUntilIdle();
        assertThat(c.reason).isEqualTo(FinishReason.STOP);
        assertThat(c.text.toString()).isEqualTo(full.substring(0, full.indexOf("thinking")));
    }

    @Test
    void eosIdEndsTheGenerationWithoutItsText() {
        JsonNode p = prompts.get(0);
        int[] greedy = TinyLlama.ints(p.get("greedy_ids"));
        Collector c = new Collector();
        ContinuousBatcher b = batcher(1, 512);
        b.submit(new GenerationRequest(TinyLlama.ints(p.get("input_ids")), SamplingParams.greedy(32), Set.of(greedy[2])), c);
        b.runUntilIdle();
        assertThat(c.reason).isEqualTo(FinishReason.STOP);
        assertThat(c.usage.completionTokens()).isEqualTo(3);
        assertThat(c.text.toString()).isEqualTo(tokenizer.decode(java.util.Arrays.copyOf(greedy, 2), false));
    }

    @Test
    void cancelledGenerationStopsAtTheNextStep() {
        Collector c = new Collector();
        ContinuousBatcher b = batcher(1, 512);
        Generation g = b.submit(new GenerationRequest(TinyLlama.ints(prompts.get(1).get("input_ids")), SamplingParams.greedy(32), Set.of()), c);
        b.step();
        b.step();
        g.cancel();
        b.runUntilIdle();
        assertThat(c.reason).isEqualTo(FinishReason.CANCELLED);
        assertThat(c.ids).hasSize(2);
        assertThat(g.isDone()).isTrue();
    }

    @Test
    void sessionResentHistoryRunsOnlyTheNewTokens() {
        int[] first = TinyLlama.ints(prompts.get(0).get("input_ids"));
        int[] greedy = TinyLlama.ints(prompts.get(0).get("greedy_ids"));
        ContinuousBatcher b = batcher(2, 512);
        try (Session session = new Session("s1", () -> model.newCache(DenseKvCache.Precision.F32))) {
            Collector one = new Collector();
            b.submit(new GenerationRequest(first, SamplingParams.greedy(8), Set.of()), one, session);
            b.runUntilIdle();
            assertThat(session.tokenCount()).isEqualTo(first.length + 7);
            // The client resends the whole history plus a new turn.
            int[] turn = tokenizer.encode(" And then the sea.", false);
            int[] second = java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(
                    java.util.Arrays.stream(first), java.util.Arrays.stream(greedy, 0, 8)), java.util.Arrays.stream(turn)).toArray();
            Collector reused = new Collector();
            b.submit(new GenerationRequest(second, SamplingParams.greedy(10), Set.of()), reused, session);
            Collector fresh = new Collector();
            b.submit(new GenerationRequest(second, SamplingParams.greedy(10), Set.of()), fresh);
            b.runUntilIdle();
            assertThat(reused.usage.cachedTokens()).isEqualTo(first.length + 7);
            assertThat(fresh.usage.cachedTokens()).isZero();
            assertThat(reused.ids).isEqualTo(fresh.ids);
            // A prompt that departs from the history early keeps only the shared prefix.
            Collector branch = new Collector();
            b.submit(new GenerationRequest(java.util.Arrays.copyOf(first, 5), SamplingParams.greedy(2), Set.of()), branch, session);
            b.runUntilIdle();
            assertThat(branch.usage.cachedTokens()).isEqualTo(4);
        }
    }

    @Test
    void aBusySessionIsRefused() {
        ContinuousBatcher b = batcher(2, 512);
        try (Session session = new Session("s2", () -> model.newCache(DenseKvCache.Precision.F32))) {
            int[] p = TinyLlama.ints(prompts.get(1).get("input_ids"));
            b.submit(new GenerationRequest(p, SamplingParams.greedy(4), Set.of()), new Collector(), session);
            assertThatThrownBy(() -> b.submit(new GenerationRequest(p, SamplingParams.greedy(4), Set.of()), new Collector(), session))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("s2");
            b.runUntilIdle();
        }
    }

    @Test
    void engineLoopServesSubmissionsFromOtherThreads() throws Exception {
        ContinuousBatcher b = batcher(4, 64);
        java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(4);
        List<Collector> out = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (EngineLoop loop = new EngineLoop(b, "test-engine")) {
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                int n = i;
                threads.add(Thread.ofVirtual().start(() -> {
                    Collector c = new Collector() {
                        @Override
                        public void onFinish(FinishReason r, Usage u) {
                            super.onFinish(r, u);
                            done.countDown();
                        }
                    };
                    out.add(c);
                    loop.submit(new GenerationRequest(TinyLlama.ints(prompts.get(n).get("input_ids")), SamplingParams.greedy(6), Set.of()), c);
                }));
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(done.await(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        }
        assertThat(out).allSatisfy(c -> assertThat(c.ids).hasSize(6));
    }

    @Test
    void promptsThatFillTheContextAreRefused() {
        assertThatThrownBy(() -> batcher(1, 512).submit(new GenerationRequest(new int[2048], SamplingParams.greedy(1), Set.of()), new Collector()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2048");
    }

    // A decoder that draws tokens itself, as the GPU does: uniforms come from each sequence's seeded generator,
    // so a top-k request gets the host sampler's very tokens; a repetition penalty sends the logits back to the host.

    /** The CPU model, drawing the way sample_rows does for top-k and temperature: kept tokens in id order. */
    private static final class DrawingDecoder implements SamplingDecoder {
        int sampledSteps;
        int logitSteps;

        @Override
        public ModelConfig config() {
            return model.config();
        }

        @Override
        public float[][] forward(List<LlamaModel.Step> steps) {
            logitSteps++;
            return model.forward(steps);
        }

        @Override
        public int[] forwardSampled(List<LlamaModel.Step> steps, List<SamplingParams> params, double[] uniforms) {
            sampledSteps++;
            float[][] logits = model.forward(steps);
            int[] out = new int[steps.size()];
            for (int i = 0; i < out.length; i++) {
                out[i] = draw(logits[i], params.get(i), uniforms[i]);
            }
            return out;
        }

        private static int draw(float[] logits, SamplingParams p, double u) {
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                best = logits[i] > logits[best] ? i : best;
            }
            if (p.isGreedy()) {
                return best;
            }
            float max = logits[best];
            float[] sorted = logits.clone();
            java.util.Arrays.sort(sorted);
            float kth = p.topK() > 0 ? sorted[sorted.length - p.topK()] : Float.NEGATIVE_INFINITY;
            double total = 0;
            float[] w = new float[logits.length];
            for (int i = 0; i < logits.length; i++) {
                w[i] = logits[i] >= kth ? (float) Math.exp((logits[i] - max) * (1 / p.temperature())) : 0;
                total += w[i];
            }
            double target = u * total;
            double cumulative = 0;
            int last = 0;
            for (int i = 0; i < logits.length; i++) {
                if (w[i] > 0) {
                    cumulative += w[i];
                    last = i;
                    if (target < cumulative) {
                        return i;
                    }
                }
            }
            return last;
        }

        @Override
        public void close() {
        }
    }

    private static List<List<Integer>> generate(Decoder decoder, List<SamplingParams> params) {
        ContinuousBatcher b = new ContinuousBatcher(decoder, tokenizer, () -> model.newCache(DenseKvCache.Precision.F32), 4, 512);
        List<Collector> out = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Collector c = new Collector();
            out.add(c);
            b.submit(new GenerationRequest(TinyLlama.ints(prompts.get(i).get("input_ids")), params.get(i), Set.of()), c);
        }
        b.runUntilIdle();
        return out.stream().map(c -> c.ids).toList();
    }

    @Test
    void seededTopKRequestsDrawTheHostSamplersTokensWhereTheLogitsAre() {
        List<SamplingParams> params = List.of(SamplingParams.sample(24).withTemperature(0.8).withTopK(40).withSeed(9),
                SamplingParams.sample(24).withTemperature(1.2).withTopK(200).withSeed(4), SamplingParams.greedy(24));
        DrawingDecoder device = new DrawingDecoder();
        List<List<Integer>> drawn = generate(device, params);
        assertThat(device.sampledSteps).isPositive();
        assertThat(device.logitSteps).isZero();
        assertThat(drawn).isEqualTo(generate(model, params));
        assertThat(drawn.get(0)).hasSize(24).isNotEqualTo(drawn.get(2));
    }

    @Test
    void aRepetitionPenaltyBringsTheStepsLogitsBackToTheHostSampler() {
        List<SamplingParams> params = List.of(SamplingParams.sample(8).withTopK(20).withSeed(1),
                SamplingParams.greedy(8).withRepetitionPenalty(1.3));
        DrawingDecoder device = new DrawingDecoder();
        List<List<Integer>> drawn = generate(device, params);
        assertThat(device.sampledSteps).isZero();
        assertThat(device.logitSteps).isPositive();
        assertThat(drawn).isEqualTo(generate(model, params));
    }
}
