package io.spillway.engine.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.testing.TinyLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The CPU engine against transformers' fp32 outputs in reference.json. */
class ReferenceParityTest {
    private static LlamaModel model;
    private static JsonNode prompts;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TinyLlama.modelDir());
        prompts = TinyLlama.reference().get("prompts");
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void lastPositionTopTenLogitsMatchTransformers() {
        for (JsonNode p : prompts) {
            try (KvCache cache = model.newCache(DenseKvCache.Precision.F32)) {
                float[] logits = model.forward(List.of(new LlamaModel.Step(cache, TinyLlama.ints(p.get("input_ids")), false)))[0];
                JsonNode top = p.get("last_logits_top10");
                int[] ids = TinyLlama.ints(top.get("ids"));
                for (int i = 0; i < ids.length; i++) {
                    assertThat(logits[ids[i]]).as("logit of token %d for '%s'", ids[i], p.get("text").asText())
                            .isCloseTo((float) top.get("values").get(i).asDouble(), within(1e-3f));
                }
            }
        }
    }

    @Test
    void greedyContinuationsEqualTheReferenceIds() {
        for (JsonNode p : prompts) {
            int[] expected = TinyLlama.ints(p.get("greedy_ids"));
            try (KvCache cache = model.newCache(DenseKvCache.Precision.F32)) {
                assertThat(greedy(cache, TinyLlama.ints(p.get("input_ids")), expected.length))
                        .as("greedy ids for '%s'", p.get("text").asText()).containsExactly(expected);
            }
        }
    }

    @Test
    void batchedSequencesOfDifferentLengthsDecodeAsIfAlone() {
        int n = prompts.size();
        List<KvCache> caches = new ArrayList<>();
        int[][] next = new int[n][];
        for (int i = 0; i < n; i++) {
            caches.add(model.newCache(DenseKvCache.Precision.F32));
            next[i] = TinyLlama.ints(prompts.get(i).get("input_ids"));
        }
        List<List<Integer>> generated = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            generated.add(new ArrayList<>());
        }
        for (int step = 0; step < 32; step++) {
            List<LlamaModel.Step> steps = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                steps.add(new LlamaModel.Step(caches.get(i), next[i], false));
            }
            float[][] logits = model.forward(steps);
            for (int i = 0; i < n; i++) {
                int id = argmax(logits[i]);
                generated.get(i).add(id);
                next[i] = new int[] {id};
            }
        }
        for (int i = 0; i < n; i++) {
            assertThat(generated.get(i)).containsExactly(
                    java.util.Arrays.stream(TinyLlama.ints(prompts.get(i).get("greedy_ids"))).boxed().toArray(Integer[]::new));
            caches.get(i).close();
        }
    }

    @Test
    void fp16CacheKeepsTheGreedyContinuation() {
        JsonNode p = prompts.get(0);
        int[] expected = TinyLlama.ints(p.get("greedy_ids"));
        try (KvCache cache = model.newCache(DenseKvCache.Precision.F16)) {
            assertThat(greedy(cache, TinyLlama.ints(p.get("input_ids")), 8))
                    .containsExactly(java.util.Arrays.copyOf(expected, 8));
        }
    }

    static int[] greedy(KvCache cache, int[] prompt, int count) {
        int[] out = new int[count];
        int[] next = prompt;
        for (int i = 0; i < count; i++) {
            float[] logits = model.forward(List.of(new LlamaModel.Step(cache, next, false)))[0];
            out[i] = argmax(logits);
            next = new int[] {out[i]};
        }
        return out;
    }

    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) {
            if (v[i] > v[best]) {
                best = i;
            }
        }
        return best;
    }
}
