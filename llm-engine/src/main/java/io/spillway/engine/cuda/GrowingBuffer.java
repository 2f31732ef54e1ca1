package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;

/** Device memory reused from step to step and reallocated, contents dropped, when a step needs more. */
final class GrowingBuffer {
    private final DeviceMemory memory;
    private Pointer buffer;
    private long bytes;

    GrowingBuffer(DeviceMemory memory) {
        this.memory = memory;
    }

    /** Makes it hold at least {@code need} bytes; true when it moved (what pointed at the old memory must go). */
    boolean grow(long need) {
        if (need <= bytes) {
            return false;
        }
        if (buffer != null) {
            memory.free(buffer);
        }
        buffer = memory.alloc(need);
        bytes = need;
        return true;
    }

    /** The memory; null until the first {@link #grow}. */
    Pointer pointer() {
        return buffer;
    }
}
