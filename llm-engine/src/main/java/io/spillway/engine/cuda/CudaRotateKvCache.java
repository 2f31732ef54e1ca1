package io.spillway.engine.cuda;

import io.spillway.engine.kv.LayerRows;
import io.spillway.engine.model.ModelConfig;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One sequence's RotateKV 2-bit cache in GPU memory. Per layer: packed key and value codes (2 bits a
 * channel), fp16 scale and minimum per group, a sink slot per position, the fp16 residual window,
 * the fp16 rows of up to {@code sinks} attention-sink tokens, and the sink tracker's state. The
 * layout is computed here once and handed to every kernel, which reads its offsets from it.
 */
public final class CudaRotateKvCache implements CudaCache {
    private static final int ALIGN = 256;

    private final CudaDevice device;
    private final CudaRotateKv kv;
    private final Pointer memory;
    private final Pointer layout;
    private final int capacity;
    private final int window;
    private final long bytes;
    private int length;
    private boolean closed;

    CudaRotateKvCache(CudaDevice device, CudaRotateKv kv, int capacity) {
        this.device = device;
        this.kv = kv;
        this.capacity = capacity;
        this.window = kv.residualWindow() ? kv.method().blockTokens() : 0;
        ModelConfig c = kv.config();
        long kvDim = c.kvDim();
        int slots = Math.max(1, kv.sinks());
        long[] lay = new long[12];
        long at = 0;
        at = section(lay, 1, at, capacity * kvDim / 4);
        at = section(lay, 2, at, capacity * kvDim / 4);
        at = section(lay, 3, at, 4L * capacity * (kvDim / kv.keyGroup()));
        at = section(lay, 4, at, 4L * capacity * (kvDim / kv.valueGroup()));
        at = section(lay, 5, at, capacity);
        at = section(lay, 6, at, 2L * window * kvDim);
        at = section(lay, 7, at, 2L * window * kvDim);
        at = section(lay, 8, at, 2L * slots * kvDim);
        at = section(lay, 9, at, 2L * slots * kvDim);
        at = section(lay, 10, at, 12L * slots + 4);
        lay[0] = at;
        lay[11] = capacity;
        this.bytes = at * c.numLayers();
        this.memory = device.alloc(bytes);
        device.zero(memory, bytes);
        this.layout = device.alloc(8L * lay.length);
        device.toDevice(layout, new LongPointer(lay), 8L * lay.length);
        kv.kernels().launch("rkv_init", c.numLayers(), 1, 256, memory, layout);
    }

    private static long section(long[] lay, int index, long at, long size) {
        lay[index] = at;
        return at + (size + ALIGN - 1) / ALIGN * ALIGN;
    }

    CudaRotateKv method() {
        return kv;
    }

    Pointer layout() {
        return layout;
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

    /** Where the fp16 window starts once the cache holds {@code tokens}: every earlier position is packed. */
    int windowStart(int tokens) {
        return window == 0 ? tokens : tokens / window * window;
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

    /** Within the fp16 window only, as on the CPU: packed blocks are not unpacked. */
    @Override
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length) {
            throw new IllegalArgumentException("cannot truncate " + length + " tokens to " + newLength);
        }
        if (newLength < windowStart(length)) {
            throw new IllegalArgumentException("a quantized cache can only be truncated within its fp16 window (from "
                    + windowStart(length) + "), not to " + newLength);
        }
        kv.kernels().launch("rkv_truncate", kv.config().numLayers(), 1, 1, memory, layout, newLength);
        length = newLength;
    }

    /** Everything allocated for this sequence: codes, scales, the window and sink rows, at full capacity. */
    @Override
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            device.free(memory);
            device.free(layout);
        }
    }
}
