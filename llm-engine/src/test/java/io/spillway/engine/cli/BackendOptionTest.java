package io.spillway.engine.cli;

import io.spillway.engine.backend.Backend;
import io.spillway.engine.backend.LoadedModel;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.testing.NoGpu;
import io.spillway.engine.testing.TinyLlama;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendOptionTest {
    private static Args args(String... argv) {
        return Args.parse("ppl", argv, 0, Set.of("backend", "kv", "kv-mode"), Set.of());
    }

    @Test
    void unknownBackendIsAUsageError() {
        assertThatThrownBy(() -> BackendOption.check("ppl", args("--backend", "gpu")))
                .isInstanceOf(UsageException.class).hasMessageContaining("cpu, cuda or auto");
    }

    @Test
    void cudaTakesFp16AndTwoBitPerTokenMethodsAndRefusesTheRestWithTheReason() {
        assertThat(BackendOption.check("ppl", args("--backend", "cuda", "--kv", "rotatekv2"))).isEqualTo(Backend.CUDA);
        assertThat(BackendOption.check("ppl", args("--backend", "cuda", "--kv", "rotatekv2:sinks=0,reorder=off,prerope=off")))
                .isEqualTo(Backend.CUDA);
        assertThat(BackendOption.check("ppl", args("--backend", "cuda", "--kv", "fp16"))).isEqualTo(Backend.CUDA);
        assertThatThrownBy(() -> BackendOption.check("ppl", args("--backend", "cuda", "--kv", "kivi2")))
                .isInstanceOf(UsageException.class).hasMessageContaining("per-channel keys run on the CPU");
        assertThatThrownBy(() -> BackendOption.check("ppl", args("--backend", "cuda", "--kv", "akvq2")))
                .isInstanceOf(UsageException.class).hasMessageContaining("salient-token bits");
        assertThatThrownBy(() -> BackendOption.check("ppl", args("--backend", "cuda", "--kv", "int4")))
                .isInstanceOf(UsageException.class).hasMessageContaining("2-bit codes only");
        assertThatThrownBy(() -> BackendOption.check("ppl", args("--backend", "cuda", "--kv", "fp32")))
                .isInstanceOf(UsageException.class).hasMessageContaining("fp16 or 2-bit");
        assertThatThrownBy(() -> BackendOption.check("ppl", args("--backend", "cuda", "--kv", "rotatekv2", "--kv-mode", "some")))
                .isInstanceOf(UsageException.class).hasMessageContaining("--kv-mode must be all or decode");
    }

    @Test
    void cpuIsTheDefault() {
        assertThat(BackendOption.check("ppl", args())).isEqualTo(Backend.CPU);
    }

    @Test
    void autoFallsBackToTheCpuAndSaysWhyWhereNoGpuIsUsable() {
        NoGpu.assume("the fallback");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        LoadedModel loaded = BackendOption.load("ppl", args("--backend", "auto"), TinyLlama.modelDir(), 64,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        try (var model = loaded.model()) {
            assertThat(model).isInstanceOf(LlamaModel.class);
            assertThat(err.toString(StandardCharsets.UTF_8)).contains("ppl: no usable CUDA GPU: ").contains("ppl: backend cpu");
        }
    }

    @Test
    void cudaWithoutAGpuFailsClearly() {
        NoGpu.assume("the failure");
        assertThatThrownBy(() -> BackendOption.load("ppl", args("--backend", "cuda"), TinyLlama.modelDir(), 64,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
                .hasMessageContaining("backend cuda: no usable CUDA GPU");
    }
}
