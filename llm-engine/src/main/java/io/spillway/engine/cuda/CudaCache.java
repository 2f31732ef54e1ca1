package io.spillway.engine.cuda;

import io.spillway.engine.kv.LayerRows;
import io.spillway.engine.kv.SpillableKvCache;
import org.bytedeco.javacpp.Pointer;

import java.io.IOException;

/**
 * A KV cache in GPU memory, allocated whole at its capacity (zeroed: unwritten positions are never
 * attended, but zeros keep a benchmark's unfilled caches finite). Only {@link CudaLlamaModel}'s kernels
 * read and write it, so the host-side {@code write}/{@code attend} of the CPU path do not apply. Spills
 * are the CPU caches' very format for the same method: a session spilled by either backend resumes on the other.
 */
public abstract sealed class CudaCache implements SpillableKvCache permits CudaKvCache, CudaRotateKvCache {
    final CudaDevice device;
    private final Pointer memory;
    private final int capacity;
    private final long bytes;
    private int length;
    private boolean closed;

    CudaCache(CudaDevice device, int capacity, long bytes) {
        this.device = device;
        this.capacity = capacity;
        this.bytes = bytes;
        this.memory = device.alloc(bytes);
        device.zero(memory, bytes);
    }

    /** Device address of the cache's memory. */
    public long address() {
        if (closed) {
            throw new IllegalStateException("cache is closed");
        }
        return memory.address();
    }

    /** The most tokens it holds. */
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

    /**
     * Claims {@code count} more positions holding random keys and values: decode benchmarks at long
     * contexts skip prefill, and random rows (unlike zeros) make attention's running maxima move as real ones do.
     */
    public void extendRandom(int count, int seed) {
        if (length + count > capacity) {
            throw new IllegalArgumentException("cannot extend " + length + " tokens by " + count + " past capacity " + capacity);
        }
        fillRandom(seed);
        length += count;
    }

    /** Random keys and values at every position, bookkeeping (such as sink slots) left as it is. */
    abstract void fillRandom(int seed);

    /** Refuses restoring {@code tokens} tokens into a cache that is not empty or holds fewer. */
    void checkRestore(int tokens) throws IOException {
        if (length != 0) {
            throw new IllegalStateException("restore needs an empty cache");
        }
        if (tokens < 0 || tokens > capacity) {
            throw new IOException("the spill holds " + tokens + " tokens, this GPU cache holds at most " + capacity);
        }
    }

    @Override
    public void restored(int tokens) {
        if (tokens < 0 || tokens > capacity) {
            throw new IllegalArgumentException("cannot hold " + tokens + " tokens, capacity " + capacity);
        }
        length = tokens;
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

    /** Everything allocated for this sequence, at full capacity. */
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
