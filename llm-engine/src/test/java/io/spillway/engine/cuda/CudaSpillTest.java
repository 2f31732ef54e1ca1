package io.spillway.engine.cuda;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.kv.KvSpill;
import io.spillway.engine.kv.QuantizedKvCache;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.testing.TinyLlama;
import io.spillway.kvquant.KvMethod;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * GPU caches spill in the CPU caches' format: a session spilled by either backend resumes on the other,
 * bit for bit. Skipped with the reason where no GPU is usable (CI).
 */
class CudaSpillTest {
    private static final int CAPACITY = 256;
    private static CudaLlamaModel gpu;
    private static LlamaModel cpu;

    @BeforeAll
    static void load() {
        gpu = CudaLlamaModelTest.tinyLlamaOnTheGpu();
        cpu = LlamaModel.load(TinyLlama.modelDir());
    }

    @AfterAll
    static void close() {
        if (gpu != null) {
            gpu.close();
            cpu.close();
        }
    }

    /** 200 tokens: a packed block of 128, a window of 72, sinks among them. */
    private static int[] history() {
        int[] ids = new int[200];
        int[] prompt = TinyLlama.ints(TinyLlama.reference().get("prompts").get(0).get("input_ids"));
        for (int i = 0; i < ids.length; i++) {
            ids[i] = prompt[i % prompt.length] + i % 7;
        }
        return ids;
    }

    private static Supplier<KvCache> gpuCaches(String method, boolean window) {
        if (method.equals("fp16")) {
            return () -> gpu.newCache(CAPACITY);
        }
        CudaRotateKv kv = gpu.rotateKv(KvMethod.parse(method), KvCacheFactory.calibration(cpu), window);
        return () -> kv.newCache(CAPACITY);
    }

    private static Supplier<KvCache> cpuCaches(String method, boolean window) {
        if (method.equals("fp16")) {
            return () -> cpu.newCache(DenseKvCache.Precision.F16);
        }
        return () -> new QuantizedKvCache(cpu.kvLayout(), cpu.rope(), KvMethod.parse(method), KvCacheFactory.calibration(cpu), window);
    }

    private static byte[] spill(KvCache cache, int[] ids) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        KvSpill.write(cache, ids, gpu.fingerprint(), out);
        return out.toByteArray();
    }

    private static KvCache restore(Supplier<KvCache> caches, byte[] blob) throws IOException {
        KvCache cache = caches.get();
        KvSpill.read(cache, gpu.fingerprint(), new ByteArrayInputStream(blob));
        return cache;
    }

    private static float[] next(LlamaModel.Step step) {
        return step.cache() instanceof CudaCache ? gpu.forward(List.of(step))[0] : cpu.forward(List.of(step))[0];
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp16", "rotatekv2", "rotatekv2:reorder=off,sinks=0", "rotatekv2:block=64",
            "rotatekv2:prerope=off,rotation-heads=1,reorder=off"})
    void aGpuSpillResumesOnTheGpuWithTheSameLogitsAndOnTheCpuAsTheVeryBits(String method) throws IOException {
        int[] ids = history();
        try (KvCache hot = gpuCaches(method, true).get()) {
            gpu.forward(List.of(new LlamaModel.Step(hot, ids, false)));
            byte[] blob = spill(hot, ids);
            try (KvCache resumed = restore(gpuCaches(method, true), blob); KvCache onCpu = restore(cpuCaches(method, true), blob)) {
                assertThat(resumed.length()).isEqualTo(ids.length);
                assertThat(spill(resumed, ids)).as("GPU -> GPU").isEqualTo(blob);
                assertThat(spill(onCpu, ids)).as("GPU -> CPU, written again by the CPU").isEqualTo(blob);
                float[] a = next(new LlamaModel.Step(hot, new int[] {42, 43}, false));
                float[] b = next(new LlamaModel.Step(resumed, new int[] {42, 43}, false));
                assertThat(Arrays.equals(a, b)).as("the resumed GPU cache decodes as the hot one").isTrue();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp16", "rotatekv2"})
    void aCpuSpillResumesOnTheGpu(String method) throws IOException {
        int[] ids = history();
        try (KvCache hot = cpuCaches(method, true).get()) {
            cpu.forward(List.of(new LlamaModel.Step(hot, ids, false)));
            byte[] blob = spill(hot, ids);
            try (KvCache onGpu = restore(gpuCaches(method, true), blob)) {
                assertThat(spill(onGpu, ids)).isEqualTo(blob);
                float[] a = next(new LlamaModel.Step(hot, new int[] {42}, false));
                float[] b = next(new LlamaModel.Step(onGpu, new int[] {42}, false));
                double diff = 0;
                for (int i = 0; i < a.length; i++) {
                    diff += Math.abs(a[i] - b[i]);
                }
                // Only the new token's arithmetic differs (fp16 GEMM inputs on the GPU): the history is the same bits.
                assertThat(diff / a.length).isLessThan(0.05);
            }
        }
    }

    @Test
    void spillsThatDoNotFitAreRefusedWithTheReason() throws IOException {
        int[] ids = history();
        byte[] allMode;
        try (KvCache hot = cpuCaches("rotatekv2", false).get()) {
            cpu.forward(List.of(new LlamaModel.Step(hot, ids, false)));
            allMode = spill(hot, ids);
        }
        assertThatThrownBy(() -> restore(gpuCaches("rotatekv2", true), allMode)).hasMessageContaining("the other --kv-mode");
        try (KvCache hot = cpuCaches("fp16", true).get()) {
            int[] longer = Arrays.copyOf(ids, CAPACITY + 10);
            cpu.forward(List.of(new LlamaModel.Step(hot, longer, false)));
            byte[] blob = spill(hot, longer);
            assertThatThrownBy(() -> restore(gpuCaches("fp16", true), blob)).hasMessageContaining("holds at most " + CAPACITY);
        }
    }
}
