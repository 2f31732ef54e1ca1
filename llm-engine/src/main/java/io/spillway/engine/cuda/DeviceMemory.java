package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;

/** Where {@link CudaPagePool} gets its slabs: the GPU's memory, or in tests a stand-in that hands out addresses. */
interface DeviceMemory {
    Pointer alloc(long bytes);

    void free(Pointer p);
}
