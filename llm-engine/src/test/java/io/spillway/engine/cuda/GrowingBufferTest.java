package io.spillway.engine.cuda;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class GrowingBufferTest {
    @Test
    void growsOnlyWhenAStepNeedsMoreAndFreesWhatItReplaces() {
        FakeDeviceMemory memory = new FakeDeviceMemory();
        GrowingBuffer buffer = new GrowingBuffer(memory);
        assertThat(buffer.pointer()).isNull();

        assertThat(buffer.grow(1000)).as("first use allocates").isTrue();
        long first = buffer.pointer().address();
        assertThat(buffer.grow(1000)).isFalse();
        assertThat(buffer.grow(10)).as("a smaller step reuses it").isFalse();
        assertThat(buffer.pointer().address()).isEqualTo(first);

        assertThat(buffer.grow(1001)).as("a larger step moves it").isTrue();
        assertThat(buffer.pointer().address()).isNotEqualTo(first);
        assertThat(memory.live).containsExactly(buffer.pointer().address());
    }
}
