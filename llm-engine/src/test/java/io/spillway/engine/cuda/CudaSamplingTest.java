package io.spillway.engine.cuda;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.Sampler;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.testing.TinyLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Sampling on the GPU against the host Sampler's filters; skipped with the reason where no GPU is usable (CI). */
class CudaSamplingTest {
    private static CudaLlamaModel gpu;
    private static float[] logits;

    @BeforeAll
    static void load() {
        gpu = CudaLlamaModelTest.tinyLlamaOnTheGpu();
        int[] ids = TinyLlama.ints(TinyLlama.reference().get("prompts").get(0).get("input_ids"));
        try (KvCache cache = gpu.newCache(256)) {
            logits = gpu.forward(List.of(new LlamaModel.Step(cache, ids, false)))[0];
        }
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
        }
    }

    private static SamplingParams params(double temperature, int topK, double topP, double minP) {
        return SamplingParams.sample(16).withTemperature(temperature).withTopK(topK).withTopP(topP).withMinP(minP);
    }

    @Test
    void greedyAndTopKOfOneTakeTheArgmax() {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            best = logits[i] > logits[best] ? i : best;
        }
        List<SamplingParams> ps = List.of(params(0, 0, 1, 0), params(1, 1, 1, 0), params(1.5, 1, 1, 0), params(1, 1, 0.5, 0));
        int[] drawn = gpu.sample(new float[][] {logits, logits, logits, logits}, ps, new double[] {0.3, 0, 0.5, 0.999});
        assertThat(drawn).containsOnly(best);
    }

    @Test
    void drawsFollowTheDistributionTheFiltersLeave() {
        for (SamplingParams p : List.of(params(0.8, 40, 1, 0), params(1, 0, 0.9, 0), params(0.7, 50, 0.8, 0.02), params(1.3, 0, 1, 0.05))) {
            assertDrawsFollowTheFilters(logits, p);
        }
    }

    /**
     * Tokens tied at top-p's boundary are kept as the host sorts them, by id, only while the mass before them is
     * below the target: of four tokens at 4.0 behind one at 5.0, top-p 0.5 keeps the first tied one and 0.7 two;
     * top-k 3 keeps all four (ties with the k-th), and top-p 0.99 then all of them.
     */
    @Test
    void topPKeepsTokensTiedAtItsBoundaryInIdOrder() {
        float[] tied = new float[logits.length];
        Arrays.fill(tied, -30);
        tied[100] = 5;
        for (int id : new int[] {7, 20, 300, 4000}) {
            tied[id] = 4;
        }
        for (SamplingParams p : List.of(params(1, 0, 0.5, 0), params(1, 0, 0.7, 0), params(1, 3, 0.99, 0))) {
            assertDrawsFollowTheFilters(tied, p);
        }
        assertThat(expected(tied, params(1, 0, 0.5, 0)).keySet()).containsExactlyInAnyOrder(100, 7);
        assertThat(expected(tied, params(1, 0, 0.7, 0)).keySet()).containsExactlyInAnyOrder(100, 7, 20);
        assertThat(expected(tied, params(1, 3, 0.99, 0)).keySet()).containsExactlyInAnyOrder(100, 7, 20, 300, 4000);
    }

    /** Evenly spaced uniforms walk the kept tokens' cumulative distribution: each token's share comes out to within a draw. */
    private static void assertDrawsFollowTheFilters(float[] row, SamplingParams p) {
        int n = 2000;
        Map<Integer, Double> expected = expected(row, p);
        float[][] rows = new float[n][];
        Arrays.fill(rows, row);
        double[] u = IntStream.range(0, n).mapToDouble(i -> (i + 0.5) / n).toArray();
        int[] drawn = gpu.sample(rows, Collections.nCopies(n, p), u);
        Map<Integer, Integer> counts = new HashMap<>();
        for (int id : drawn) {
            counts.merge(id, 1, Integer::sum);
        }
        assertThat(expected.keySet()).as("%s keeps", p).containsAll(counts.keySet());
        expected.forEach((id, prob) -> assertThat((double) counts.getOrDefault(id, 0))
                .as("%s: draws of token %d (p=%.4f)", p, id, prob).isBetween(n * prob - 2, n * prob + 2));
    }

    /** The filters written out plainly: sort, top-k with ties, top-p prefix, min-p floor, normalize. */
    private static Map<Integer, Double> expected(float[] logits, SamplingParams p) {
        Integer[] order = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -logits[i]).thenComparingInt(i -> i));
        double max = logits[order[0]];
        int keep = order.length;
        if (p.topK() > 0) {
            float kth = logits[order[p.topK() - 1]];
            keep = 0;
            while (keep < order.length && logits[order[keep]] >= kth) {
                keep++;
            }
        }
        double[] w = new double[keep];
        double mass = 0;
        for (int i = 0; i < keep; i++) {
            w[i] = Math.exp((logits[order[i]] - max) / p.temperature());
            mass += w[i];
        }
        int topP = 0;
        double before = 0;
        while (topP < keep && before < p.topP() * mass) {
            before += w[topP++];
        }
        Map<Integer, Double> kept = new HashMap<>();
        double total = 0;
        for (int i = 0; i < topP; i++) {
            if (w[i] >= p.minP() * w[0]) {
                kept.put(order[i], w[i]);
                total += w[i];
            }
        }
        double sum = total;
        kept.replaceAll((id, x) -> x / sum);
        return kept;
    }

    /** Top-k and min-p leave candidates in id order on both sides, so one seed gives the host Sampler's very tokens. */
    @Test
    void aSeededSequenceDrawsTheHostSamplersTokens() {
        SamplingParams p = params(0.9, 50, 1, 0.01).withSeed(17);
        Sampler host = new Sampler(p);
        Sampler uniforms = new Sampler(p);
        for (int i = 0; i < 50; i++) {
            int expected = host.next(logits, new int[0], 0);
            int[] drawn = gpu.sample(new float[][] {logits}, List.of(p), new double[] {uniforms.nextUniform()});
            assertThat(drawn[0]).as("draw %d", i).isEqualTo(expected);
        }
    }

    @Test
    void logitsHoldingNanAreRefusedAsTheHostSamplerRefusesThem() {
        float[] broken = logits.clone();
        broken[broken.length / 2] = Float.NaN;
        for (SamplingParams p : List.of(params(0, 0, 1, 0), params(1, 40, 0.9, 0))) {
            assertThatThrownBy(() -> gpu.sample(new float[][] {logits, broken}, List.of(p, p), new double[] {0.5, 0.5}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("step 1 contain NaN");
            assertThatThrownBy(() -> new Sampler(p).next(broken, new int[0], 0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void badSamplingInputsAreRefused() {
        float[][] one = {logits};
        assertThatThrownBy(() -> gpu.sample(one, List.of(params(1, 0, 1, 0)), new double[] {1.0})).hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> gpu.sample(one, List.of(params(1, 0, 1, 0).withRepetitionPenalty(1.2)), new double[] {0.5}))
                .hasMessageContaining("on the host");
        assertThatThrownBy(() -> gpu.sample(one, List.of(), new double[] {0.5})).hasMessageContaining("one sampling params");
    }
}
