package io.spillway.engine.cuda;

import io.spillway.engine.kv.KvCache;

/** A KV cache in GPU memory, written and read only by {@link CudaLlamaModel}'s kernels. */
public sealed interface CudaCache extends KvCache permits CudaKvCache, CudaRotateKvCache {
    /** Device address of the cache's memory. */
    long address();

    /** The most tokens it holds (allocated whole). */
    int capacity();

    /** Claims {@code count} more positions without writing them: decode benchmarks at long contexts skip prefill. */
    void extendUnwritten(int count);
}
