package io.spillway.engine.cuda;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.kv.SpillFormat;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * One sequence's fp16 keys (RoPE applied) and values in GPU pages: a page holds, per layer,
 * {@code [K|V][kvHead][PAGE][headDim]} halves; the sequence's own memory is its page table. Spills as the
 * CPU's fp16 {@link DenseKvCache} does.
 */
public final class CudaKvCache extends CudaCache {
    private final KvLayout layout;

    CudaKvCache(CudaDevice device, CudaPagePool pool, KvLayout layout, int capacity) {
        super(device, pool, capacity, fixedBytes(0, capacity), 0);
        this.layout = layout;
    }

    /** Bytes of one page: {@link #PAGE} positions of every layer's keys and values. */
    static long pageBytes(KvLayout layout) {
        return 2L * 2 * layout.layers() * layout.kvDim() * PAGE;
    }

    @Override
    void readyPage(long page) {
    }

    @Override
    void fillRandom(long page, int seed) {
        device.fillRandom(CudaDevice.at(page), pageBytes(layout) / 2, seed, 1);
    }

    @Override
    public SpillFormat spillFormat() {
        return DenseKvCache.spillFormat(DenseKvCache.Precision.F16, layout, DenseKvCache.DEFAULT_BLOCK);
    }

    @Override
    public void writeLayer(int layer, DataOutput out) throws IOException {
        int d = layout.headDim();
        for (int h = 0; h < layout.kvHeads(); h++) {
            for (int side = 0; side < 2; side++) {
                for (int from = 0; from < length(); from += PAGE) {
                    int rows = Math.min(PAGE, length() - from) * d;
                    SpillHalves.write(out, device.readBytes(rowsAddress(from, layer, side, h), 2 * rows), 0, rows);
                }
            }
        }
    }

    @Override
    public void readLayer(int layer, DataInput in, int tokens) throws IOException {
        checkRestore(tokens);
        int d = layout.headDim();
        for (int h = 0; h < layout.kvHeads(); h++) {
            for (int side = 0; side < 2; side++) {
                for (int from = 0; from < tokens; from += PAGE) {
                    int rows = Math.min(PAGE, tokens - from) * d;
                    byte[] le = new byte[2 * rows];
                    SpillHalves.read(in, le, 0, rows);
                    device.writeBytes(rowsAddress(from, layer, side, h), le);
                }
            }
        }
    }

    /** Where the page of {@code position} keeps KV head {@code h}'s keys ({@code side} 0) or values (1) of {@code layer}. */
    private long rowsAddress(int position, int layer, int side, int h) {
        return page(position) + 2L * ((((long) layer * 2 + side) * layout.kvHeads() + h) * PAGE * layout.headDim());
    }
}
