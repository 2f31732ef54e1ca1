package io.spillway.engine.cli;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuBenchCommandTest {
    @Test
    void aMethodsOwnOverridesStayWithItInTheKvList() {
        assertThat(GpuBenchCommand.methods("fp16, rotatekv2,rotatekv2:prerope=off,rotation-heads=1,rotatekv2:block=64"))
                .containsExactly("fp16", "rotatekv2", "rotatekv2:prerope=off,rotation-heads=1", "rotatekv2:block=64");
    }

    @Test
    void samplingModesAreMeasuredInTheOrderGivenAndOnce() {
        assertThat(sampling("--sampling", "sampled, greedy,sampled")).containsExactly(true, false);
        assertThat(sampling()).containsExactly(false);
    }

    @Test
    void anUnknownSamplingModeIsRefusedByName() {
        assertThatThrownBy(() -> sampling("--sampling", "greedy,top-p"))
                .isInstanceOf(UsageException.class)
                .hasMessage("gpu-bench: --sampling takes sampled and/or greedy, got 'top-p'");
    }

    private static java.util.List<Boolean> sampling(String... argv) {
        Args a = Args.parse("gpu-bench", argv, 0, Set.of("sampling"), Set.of());
        return GpuBenchCommand.choices(a, "sampling", "sampled", "greedy", "greedy");
    }
}
