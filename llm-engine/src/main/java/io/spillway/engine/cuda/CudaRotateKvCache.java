package io.spillway.engine.cuda;

import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.kv.SpillFormat;
import org.bytedeco.javacpp.Pointer;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * One sequence's RotateKV 2-bit cache in GPU memory. Per layer: packed key and value codes (2 bits a
 * channel), fp16 scale and minimum per group, a sink slot per position, the fp16 residual window,
 * the fp16 rows of up to {@code sinks} attention-sink tokens, and the sink tracker's state. The
 * layout is computed here once and handed to every kernel, which reads its offsets from it. Spills
 * through {@link RotateKvSpill} in the CPU {@code QuantizedKvCache}'s format.
 */
public final class CudaRotateKvCache extends CudaCache {
    /** Indices of {@link #layout}'s sections, as rotatekv.cu's L_* names them. */
    static final int KEY_CODES = 1, VALUE_CODES = 2, KEY_SCALES = 3, VALUE_SCALES = 4, FLAGS = 5, WINDOW_KEYS = 6,
            WINDOW_VALUES = 7, SINK_KEYS = 8, SINK_VALUES = 9, TRACKER = 10;
    private static final int ALIGN = 256;

    private final CudaRotateKv kv;
    private final long[] offsets;
    private final Pointer layout;
    private final int window;

    CudaRotateKvCache(CudaDevice device, CudaRotateKv kv, int capacity) {
        super(device, capacity, layout(kv, capacity)[0] * kv.config().numLayers());
        this.kv = kv;
        this.window = windowTokens(kv);
        this.offsets = layout(kv, capacity);
        this.layout = kv.layout(capacity);
        kv.kernels().launch("rkv_init", kv.config().numLayers(), 1, 256, address(), layout);
    }

    private static int windowTokens(CudaRotateKv kv) {
        return kv.residualWindow() ? kv.method().blockTokens() : 0;
    }

    /** Byte offsets of one layer's sections (indices as rotatekv.cu's L_* names them); [0] is the layer's stride. */
    static long[] layout(CudaRotateKv kv, int capacity) {
        ModelConfig c = kv.config();
        long kvDim = c.kvDim();
        int slots = Math.max(1, kv.sinks());
        int window = windowTokens(kv);
        long[] lay = new long[12];
        long at = 0;
        at = section(lay, KEY_CODES, at, capacity * kvDim / 4);
        at = section(lay, VALUE_CODES, at, capacity * kvDim / 4);
        at = section(lay, KEY_SCALES, at, 4L * capacity * (kvDim / kv.keyGroup()));
        at = section(lay, VALUE_SCALES, at, 4L * capacity * (kvDim / kv.valueGroup()));
        at = section(lay, FLAGS, at, capacity);
        at = section(lay, WINDOW_KEYS, at, 2L * window * kvDim);
        at = section(lay, WINDOW_VALUES, at, 2L * window * kvDim);
        at = section(lay, SINK_KEYS, at, 2L * slots * kvDim);
        at = section(lay, SINK_VALUES, at, 2L * slots * kvDim);
        at = section(lay, TRACKER, at, 12L * slots + 4);
        lay[0] = at;
        lay[11] = capacity;
        return lay;
    }

    private static long section(long[] lay, int index, long at, long size) {
        lay[index] = at;
        return at + (size + ALIGN - 1) / ALIGN * ALIGN;
    }

    CudaRotateKv method() {
        return kv;
    }

    /** The host copy of {@link #layout}. */
    long[] offsets() {
        return offsets;
    }

    /** Each layer's codes, scales and minimums: the sections before the sink flags. */
    @Override
    void fillRandom(int seed) {
        for (int l = 0; l < kv.config().numLayers(); l++) {
            device.fillRandom(CudaDevice.at(address() + l * offsets[0]), offsets[FLAGS] / 2, seed * 131 + l, 1);
        }
    }

    @Override
    public SpillFormat spillFormat() {
        return kv.spillFormat();
    }

    @Override
    public void writeLayer(int layer, DataOutput out) throws IOException {
        new RotateKvSpill(this).write(layer, out);
    }

    @Override
    public void readLayer(int layer, DataInput in, int tokens) throws IOException {
        new RotateKvSpill(this).read(layer, in, tokens);
    }

    /** On the device, shared by every cache of this method and capacity. */
    Pointer layout() {
        return layout;
    }

    /** Where the fp16 window starts once the cache holds {@code tokens}: every earlier position is packed. */
    int windowStart(int tokens) {
        return window == 0 ? tokens : tokens / window * window;
    }

    /** Within the fp16 window only, as on the CPU: packed blocks are not unpacked. */
    @Override
    public void truncate(int newLength) {
        if (newLength >= 0 && newLength < windowStart(length())) {
            throw new IllegalArgumentException("a quantized cache can only be truncated within its fp16 window (from "
                    + windowStart(length()) + "), not to " + newLength);
        }
        super.truncate(newLength);
        kv.kernels().launch("rkv_truncate", kv.config().numLayers(), 1, 1, address(), layout, newLength);
    }
}
