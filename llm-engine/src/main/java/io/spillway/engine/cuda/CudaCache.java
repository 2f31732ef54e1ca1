package io.spillway.engine.cuda;

import io.spillway.engine.kv.LayerRows;
import io.spillway.engine.kv.SpillableKvCache;
import org.bytedeco.javacpp.Pointer;

import java.io.IOException;

/**
 * A KV cache in GPU memory, paged: its positions live in pages of {@link #PAGE} positions (every layer's rows of
 * them) taken from its method's {@link CudaPagePool} as the sequence grows, found through a table of page
 * addresses that the kernels read. Per sequence it also holds what does not grow with it (the table, and a 2-bit
 * cache's window, sink rows and tracker). Only {@link CudaLlamaModel}'s kernels read and write it, so the
 * host-side {@code write}/{@code attend} of the CPU path do not apply. Spills are the CPU caches' very format for
 * the same method: a session spilled by either backend resumes on the other.
 */
public abstract sealed class CudaCache implements SpillableKvCache permits CudaKvCache, CudaRotateKvCache {
    /** Positions a page holds: common.cuh's PAGE. */
    public static final int PAGE = 64;

    final CudaDevice device;
    private final CudaPagePool pool;
    private final Pointer memory;
    private final long fixedBytes;
    private final long tableOffset;
    private final int capacity;
    private final long[] pages;
    private int pageCount;
    private int length;
    private boolean closed;

    /**
     * @param fixedBytes  memory of the sequence's own, the page table included
     * @param tableOffset where in it the table of page addresses starts
     */
    CudaCache(CudaDevice device, CudaPagePool pool, int capacity, long fixedBytes, long tableOffset) {
        this.device = device;
        this.pool = pool;
        this.capacity = capacity;
        this.pages = new long[(capacity + PAGE - 1) / PAGE];
        this.fixedBytes = fixedBytes;
        this.tableOffset = tableOffset;
        this.memory = device.alloc(fixedBytes);
        device.zero(memory, fixedBytes);
    }

    /** Bytes of per-sequence memory for a table of {@code capacity}'s pages after {@code sections} bytes. */
    static long fixedBytes(long sections, int capacity) {
        return sections + 8L * ((capacity + PAGE - 1) / PAGE);
    }

    /** Device address of the sequence's own memory, which the kernels take per token. */
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

    /** Takes pages until positions {@code [0, tokens)} have one each; a new page is readied by {@link #readyPage}. */
    void ensure(int tokens) {
        if (tokens > capacity) {
            throw new IllegalArgumentException("sequence of " + tokens + " tokens exceeds its cache's capacity of " + capacity);
        }
        int first = pageCount;
        while ((long) pageCount * PAGE < tokens) {
            long page = pool.take();
            readyPage(page);
            pages[pageCount++] = page;
        }
        if (pageCount > first) {
            long[] added = java.util.Arrays.copyOfRange(pages, first, pageCount);
            device.uploadLongs(CudaDevice.at(address() + tableOffset + 8L * first), added);
        }
    }

    /** Prepares a page just taken from the pool for positions not yet written. */
    abstract void readyPage(long page);

    /** The device address of the page holding {@code position}. */
    long page(int position) {
        return pages[position / PAGE];
    }

    int pages() {
        return pageCount;
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
        ensure(length + count);
        for (int p = 0; p < pageCount; p++) {
            fillRandom(pages[p], seed * 7919 + p);
        }
        length += count;
    }

    /** Random keys and values at every position of {@code page}, bookkeeping (such as sink slots) left as it is. */
    abstract void fillRandom(long page, int seed);

    /** Refuses restoring {@code tokens} tokens into a cache that is not empty or holds fewer; takes their pages. */
    void checkRestore(int tokens) throws IOException {
        if (length != 0) {
            throw new IllegalStateException("restore needs an empty cache");
        }
        if (tokens < 0 || tokens > capacity) {
            throw new IOException("the spill holds " + tokens + " tokens, this GPU cache holds at most " + capacity);
        }
        ensure(tokens);
    }

    @Override
    public void restored(int tokens) {
        if (tokens < 0 || tokens > capacity) {
            throw new IllegalArgumentException("cannot hold " + tokens + " tokens, capacity " + capacity);
        }
        ensure(tokens);
        length = tokens;
    }

    @Override
    public void commit(int count) {
        length += count;
    }

    /** Pages past the new length stay taken: the sequence will most likely grow into them again. */
    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + newLength);
        }
        length = newLength;
    }

    /** The sequence's own memory and the pages it holds now. */
    @Override
    public long bytes() {
        return fixedBytes + pageCount * pool.pageBytes();
    }

    /** What {@link #bytes} will be once {@code tokens} positions are held. */
    public long bytesFor(int tokens) {
        return fixedBytes + (long) ((tokens + PAGE - 1) / PAGE) * pool.pageBytes();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            for (int p = 0; p < pageCount; p++) {
                pool.give(pages[p]);
            }
            device.free(memory);
        }
    }
}
