package io.spillway.engine.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GpuBenchCommandTest {
    @Test
    void aMethodsOwnOverridesStayWithItInTheKvList() {
        assertThat(GpuBenchCommand.methods("fp16, rotatekv2,rotatekv2:prerope=off,rotation-heads=1,rotatekv2:block=64"))
                .containsExactly("fp16", "rotatekv2", "rotatekv2:prerope=off,rotation-heads=1", "rotatekv2:block=64");
    }

    @Test
    void drawsAreMeasuredInTheOrderGivenAndOnce() {
        assertThat(GpuBenchCommand.draws("sampled, greedy,sampled,plain")).containsExactly("sampled", "greedy", "plain");
    }

    @Test
    void anUnknownDrawIsRefusedWithTheKnownOnes() {
        assertThatThrownBy(() -> GpuBenchCommand.draws("greedy,top-p"))
                .isInstanceOf(UsageException.class)
                .hasMessage("gpu-bench: --sampling takes greedy, plain, sampled, got 'top-p'");
    }

    @Test
    void onlyTheGreedyDrawTakesTheArgmaxKernel() {
        assertThat(GpuBenchCommand.DRAWS.get("greedy").isGreedy()).isTrue();
        assertThat(GpuBenchCommand.DRAWS.get("plain").isGreedy()).isFalse();
        assertThat(GpuBenchCommand.DRAWS.get("sampled").isGreedy()).isFalse();
    }
}
