package io.spillway.engine.backend;

import io.spillway.engine.cuda.CudaBackend;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.FinishReason;
import io.spillway.engine.generate.GenerationListener;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.generate.Session;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.testing.TinyLlama;
import io.spillway.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the inference worker does with a GPU, through the same calls: load on the cuda backend, run a
 * session's turn in the continuous batcher, spill it, resume it on the GPU and on a CPU-backend worker.
 * Skipped with the reason where no GPU is usable (CI).
 */
class GpuSessionTest {
    private static Tokenizer tokenizer;

    @BeforeAll
    static void gpuOrSkip() {
        StringBuilder why = new StringBuilder();
        boolean gpu = CudaBackend.tryOpen(why::append).map(d -> {
            d.close();
            return true;
        }).orElse(false);
        assumeTrue(gpu, "skipped: " + why);
        tokenizer = Tokenizer.load(TinyLlama.modelDir());
    }

    private record Turn(List<Integer> ids, int cachedTokens) {
    }

    private static Turn run(ContinuousBatcher b, int[] prompt, Session session) {
        List<Integer> ids = new ArrayList<>();
        int[] cached = {-1};
        b.submit(new GenerationRequest(prompt, SamplingParams.greedy(12), Set.of()), new GenerationListener() {
            @Override
            public void onToken(int tokenId, String text) {
                if (tokenId >= 0) {
                    ids.add(tokenId);
                }
            }

            @Override
            public void onFinish(FinishReason reason, GenerationListener.Usage usage) {
                cached[0] = usage.cachedTokens();
            }

            @Override
            public void onFailure(RuntimeException cause) {
                throw new AssertionError("the generation failed", cause);
            }
        }, session);
        b.runUntilIdle();
        return new Turn(ids, cached[0]);
    }

    private static LoadedModel load(Backend backend, String kv) {
        return LoadedModel.load(TinyLlama.modelDir(), backend, kv, KvCacheFactory.Mode.DECODE, 512, msg -> { });
    }

    @ParameterizedTest
    @ValueSource(strings = {"rotatekv2", "fp16"})
    void aSessionSpilledByAGpuWorkerResumesOnTheGpuAndOnTheCpu(String kv) throws IOException {
        try (LoadedModel gpu = load(Backend.CUDA, kv); LoadedModel cpu = load(Backend.CPU, kv)) {
            assertThat(gpu.backend()).isEqualTo("cuda");
            assertThat(gpu.fingerprint()).isEqualTo(cpu.fingerprint());
            ContinuousBatcher onGpu = new ContinuousBatcher(gpu.model(), tokenizer, gpu.caches(), 4, 64);
            ContinuousBatcher onCpu = new ContinuousBatcher(cpu.model(), tokenizer, cpu.caches(), 4, 64);
            int[] first = IntStream.concat(Arrays.stream(tokenizer.encode("Once upon a time, a little fox lived by a river.", true)),
                    IntStream.range(300, 460)).toArray(); // past one 128-token packed block
            try (Session hot = new Session("hot", gpu.caches())) {
                Turn one = run(onGpu, first, hot);
                ByteArrayOutputStream blob = new ByteArrayOutputStream();
                hot.writeTo(gpu.fingerprint(), blob);
                int[] second = IntStream.concat(IntStream.concat(Arrays.stream(first), one.ids().stream().mapToInt(Integer::intValue)),
                        Arrays.stream(tokenizer.encode(" The fox said", false))).toArray();
                try (Session onTheGpu = Session.restore("g", gpu.caches(), gpu.fingerprint(), new ByteArrayInputStream(blob.toByteArray()));
                     Session onTheCpu = Session.restore("c", cpu.caches(), cpu.fingerprint(), new ByteArrayInputStream(blob.toByteArray()))) {
                    Turn fromHot = run(onGpu, second, hot);
                    Turn fromGpuSpill = run(onGpu, second, onTheGpu);
                    Turn fromCpuSpill = run(onCpu, second, onTheCpu);
                    assertThat(fromGpuSpill).isEqualTo(fromHot);
                    assertThat(fromHot.cachedTokens()).isGreaterThan(first.length);
                    assertThat(fromCpuSpill.cachedTokens()).isEqualTo(fromHot.cachedTokens());
                    assertThat(fromCpuSpill.ids()).hasSize(fromHot.ids().size());
                }
            }
        }
    }
}
