package io.spillway.engine.cuda;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.kv.SpillFormat;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * One sequence's fp16 keys (RoPE applied) and values in GPU memory, for every layer:
 * {@code [layer][K|V][kvHead][capacity][headDim]}. Spills as the CPU's fp16 {@link DenseKvCache} does.
 */
public final class CudaKvCache extends CudaCache {
    private final KvLayout layout;

    CudaKvCache(CudaDevice device, KvLayout layout, int capacity) {
        super(device, capacity, 2L * 2 * layout.layers() * layout.kvDim() * capacity);
        this.layout = layout;
    }

    @Override
    void fillRandom(int seed) {
        device.fillRandom(CudaDevice.at(address()), bytes() / 2, seed, 1);
    }

    @Override
    public SpillFormat spillFormat() {
        return DenseKvCache.spillFormat(DenseKvCache.Precision.F16, layout, DenseKvCache.DEFAULT_BLOCK);
    }

    @Override
    public void writeLayer(int layer, DataOutput out) throws IOException {
        int rows = length() * layout.headDim();
        for (int h = 0; h < layout.kvHeads(); h++) {
            for (int side = 0; side < 2; side++) {
                SpillHalves.write(out, device.readBytes(rowsAddress(layer, side, h), 2 * rows), 0, rows);
            }
        }
    }

    @Override
    public void readLayer(int layer, DataInput in, int tokens) throws IOException {
        checkRestore(tokens);
        int rows = tokens * layout.headDim();
        byte[] le = new byte[2 * rows];
        for (int h = 0; h < layout.kvHeads(); h++) {
            for (int side = 0; side < 2; side++) {
                SpillHalves.read(in, le, 0, rows);
                device.writeBytes(rowsAddress(layer, side, h), le);
            }
        }
    }

    /** Where KV head {@code h}'s keys ({@code side} 0) or values (1) of {@code layer} start. */
    private long rowsAddress(int layer, int side, int h) {
        return address() + 2L * ((((long) layer * 2 + side) * layout.kvHeads() + h) * capacity() * layout.headDim());
    }
}
