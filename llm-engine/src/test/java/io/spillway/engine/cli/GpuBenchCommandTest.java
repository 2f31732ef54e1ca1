package io.spillway.engine.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GpuBenchCommandTest {
    @Test
    void aMethodsOwnOverridesStayWithItInTheKvList() {
        assertThat(GpuBenchCommand.methods("fp16, rotatekv2,rotatekv2:prerope=off,rotation-heads=1,rotatekv2:block=64"))
                .containsExactly("fp16", "rotatekv2", "rotatekv2:prerope=off,rotation-heads=1", "rotatekv2:block=64");
    }
}
