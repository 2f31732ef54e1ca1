package io.spillway.engine.generate;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.model.ModelConfig;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The batcher with a decoder that draws tokens itself (as the GPU does): uniforms come from each
 * sequence's seeded generator, so a top-k request gets the host sampler's very tokens, and a repetition
 * penalty sends the step's logits back to the host.
 */
class DeviceSamplingBatcherTest {
    private static LlamaModel model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TinyLlama.modelDir());
        tokenizer = Tokenizer.load(TinyLlama.modelDir());
    }

    @AfterAll
    static void close() {
        model.close();
    }

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

    private static List<List<Integer>> generate(io.spillway.engine.runtime.Decoder decoder, List<SamplingParams> params) {
        ContinuousBatcher b = new ContinuousBatcher(decoder, tokenizer, () -> model.newCache(DenseKvCache.Precision.F32), 4, 512);
        List<ContinuousBatcherTest.Collector> out = new ArrayList<>();
        var prompts = TinyLlama.reference().get("prompts");
        for (int i = 0; i < params.size(); i++) {
            ContinuousBatcherTest.Collector c = new ContinuousBatcherTest.Collector();
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
