package io.spillway.engine.cuda;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.testing.TinyLlama;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The CUDA backend against the CPU one on tiny-llama; skipped with the reason where no GPU is usable (CI). */
class CudaLlamaModelTest {
    private static CudaLlamaModel gpu;
    private static LlamaModel cpu;

    @BeforeAll
    static void load() {
        StringBuilder why = new StringBuilder();
        var device = CudaBackend.tryOpen(why::append);
        assumeTrue(device.isPresent(), "skipped: " + why);
        gpu = CudaLlamaModel.load(device.get(), TinyLlama.modelDir());
        cpu = LlamaModel.load(TinyLlama.modelDir());
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
            cpu.close();
        }
    }

    @Test
    void logitsMatchTheCpuBackendWithinFp16Rounding() {
        var p = TinyLlama.reference().get("prompts").get(0);
        int[] ids = TinyLlama.ints(p.get("input_ids"));
        try (KvCache g = gpu.newCache(256); KvCache c = cpu.newCache(DenseKvCache.Precision.F16)) {
            float[] a = gpu.forward(List.of(new LlamaModel.Step(g, ids, true)))[0];
            float[] b = cpu.forward(List.of(new LlamaModel.Step(c, ids, true)))[0];
            for (int i = 0; i < a.length; i++) {
                assertThat(a[i]).as("logit %d", i).isCloseTo(b[i], within(0.05f));
            }
        }
    }

    @Test
    void greedySamplingOnTheGpuPicksTheLogitsArgmax() {
        int[] ids = TinyLlama.ints(TinyLlama.reference().get("prompts").get(1).get("input_ids"));
        try (KvCache a = gpu.newCache(256); KvCache b = gpu.newCache(256)) {
            float[] logits = gpu.forward(List.of(new LlamaModel.Step(a, ids, false)))[0];
            int best = 0;
            for (int i = 1; i < logits.length; i++) {
                best = logits[i] > logits[best] ? i : best;
            }
            assertThat(gpu.forwardGreedy(List.of(new LlamaModel.Step(b, ids, false)))).containsExactly(best);
        }
    }

    @Test
    void cpuCachesAreRefused() {
        try (KvCache c = cpu.newCache(DenseKvCache.Precision.F16)) {
            assertThatThrownBy(() -> gpu.forward(List.of(new LlamaModel.Step(c, new int[] {1}, false))))
                    .hasMessageContaining("CudaLlamaModel.newCache");
        }
    }
}
