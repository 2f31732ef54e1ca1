package io.spillway.engine.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

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
        assertThat(GpuBenchCommand.choices("sampling", "sampled, greedy,sampled,plain", GpuBenchCommand.DRAWS.keySet()))
                .containsExactly("sampled", "greedy", "plain");
    }

    @Test
    void anUnknownChoiceIsRefusedWithTheKnownOnes() {
        assertThatThrownBy(() -> GpuBenchCommand.choices("sampling", "greedy,top-p", GpuBenchCommand.DRAWS.keySet()))
                .isInstanceOf(UsageException.class)
                .hasMessage("gpu-bench: --sampling takes greedy, plain, sampled, got 'top-p'");
        assertThatThrownBy(() -> GpuBenchCommand.choices("graphs", "on,yes", List.of("on", "off")))
                .isInstanceOf(UsageException.class)
                .hasMessage("gpu-bench: --graphs takes on, off, got 'yes'");
    }

    @Test
    void onlyTheGreedyDrawTakesTheArgmaxKernel() {
        assertThat(GpuBenchCommand.DRAWS.get("greedy").isGreedy()).isTrue();
        assertThat(GpuBenchCommand.DRAWS.get("plain").isGreedy()).isFalse();
        assertThat(GpuBenchCommand.DRAWS.get("sampled").isGreedy()).isFalse();
    }
}
