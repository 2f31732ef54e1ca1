package io.spillway.engine.cuda;

/**
 * One sequence's fp16 keys (RoPE applied) and values in GPU memory, for every layer:
 * {@code [layer][K|V][kvHead][capacity][headDim]}.
 */
public final class CudaKvCache extends CudaCache {
    CudaKvCache(CudaDevice device, int layers, int kvDim, int capacity) {
        super(device, capacity, 2L * 2 * layers * kvDim * capacity);
    }
}
