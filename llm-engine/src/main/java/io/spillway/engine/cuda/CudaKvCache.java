package io.spillway.engine.cuda;

import io.spillway.engine.kv.LayerRows;
import org.bytedeco.javacpp.Pointer;

/**
 * One sequence's fp16 keys (RoPE applied) and values in GPU memory, for every layer:
 * {@code [layer][K|V][kvHead][capacity][headDim]}. Only {@link CudaLlamaModel}'s kernels read and
 * write it, so the host-side {@code write}/{@code attend} of the CPU path do not apply.
 */
public final class CudaKvCache implements CudaCache {
    private final CudaDevice device;
    private final Pointer memory;
    private final int capacity;
    private final long bytes;
    private int length;
    private boolean closed;

    CudaKvCache(CudaDevice device, int layers, int kvDim, int capacity) {
        this.device = device;
        this.capacity = capacity;
        this.bytes = 2L * 2 * layers * kvDim * capacity;
        this.memory = device.alloc(bytes);
        // Unwritten positions are never read, but zeros keep a benchmark's unfilled caches finite.
        device.zero(memory, bytes);
    }

    @Override
    public long address() {
        if (closed) {
            throw new IllegalStateException("cache is closed");
        }
        return memory.address();
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public void write(int layer, LayerRows rows, int first, int count) {
        throw new UnsupportedOperationException("a GPU cache is written by CudaLlamaModel's kernels, not from host rows");
    }

    @Override
    public void attend(int layer, int head, float[] query, int queryOff, int position, float[] out, int outOff) {
        throw new UnsupportedOperationException("a GPU cache is read by CudaLlamaModel's kernels, not from host queries");
    }

    @Override
    public void extendUnwritten(int count) {
        if (length + count > capacity) {
            throw new IllegalArgumentException("cannot extend " + length + " tokens by " + count + " past capacity " + capacity);
        }
        length += count;
    }

    @Override
    public void commit(int count) {
        length += count;
    }

    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + newLength);
        }
        length = newLength;
    }

    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.free(memory);
        }
    }
}
