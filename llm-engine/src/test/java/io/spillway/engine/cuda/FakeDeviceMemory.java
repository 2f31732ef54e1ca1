package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Stands in for GPU memory: hands out disjoint address ranges and remembers which are allocated. */
final class FakeDeviceMemory implements DeviceMemory {
    final Set<Long> live = new HashSet<>();
    private long next = 1L << 40;

    @Override
    public Pointer alloc(long bytes) {
        long at = next;
        next += bytes + (1L << 30);
        live.add(at);
        return CudaDevice.at(at);
    }

    @Override
    public void free(Pointer p) {
        assertThat(live.remove(p.address())).as("freed once").isTrue();
    }
}
