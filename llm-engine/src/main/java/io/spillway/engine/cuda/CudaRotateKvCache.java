package io.spillway.engine.cuda;

import io.spillway.engine.kv.SpillFormat;
import io.spillway.engine.model.ModelConfig;
import org.bytedeco.javacpp.Pointer;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One sequence's RotateKV 2-bit cache in GPU memory. Per position, in its pages (every layer's sections of
 * {@link #PAGE} positions): packed key and value codes (2 bits a channel), fp16 scale and minimum per group, a
 * sink slot. Per sequence, in its own memory: the fp16 residual window, the fp16 rows of up to {@code sinks}
 * attention-sink tokens and the sink tracker's state per layer, then the page table. The layout is computed here
 * once per method and handed to every kernel, which reads its offsets from it. Spills through
 * {@link RotateKvSpill} in the CPU {@code QuantizedKvCache}'s format.
 */
public final class CudaRotateKvCache extends CudaCache {
    /** Indices of {@link #layout}'s entries, as rotatekv.cu's L_* names them. */
    static final int PAGE_STRIDE = 0, KEY_CODES = 1, VALUE_CODES = 2, KEY_SCALES = 3, VALUE_SCALES = 4, FLAGS = 5,
            FIXED_STRIDE = 6, WINDOW_KEYS = 7, WINDOW_VALUES = 8, SINK_KEYS = 9, SINK_VALUES = 10, TRACKER = 11, TABLE = 12;
    private static final int ALIGN = 256;

    private final CudaRotateKv kv;
    private final long[] offsets;
    private final int window;

    CudaRotateKvCache(CudaDevice device, CudaPagePool pool, CudaRotateKv kv, int capacity) {
        super(device, pool, capacity, fixedBytes(layout(kv)[TABLE], capacity), layout(kv)[TABLE]);
        this.kv = kv;
        this.window = windowTokens(kv);
        this.offsets = layout(kv);
        kv.kernels().launch("rkv_init", kv.config().numLayers(), 1, 256, address(), kv.layout());
    }

    private static int windowTokens(CudaRotateKv kv) {
        return kv.residualWindow() ? kv.method().blockTokens() : 0;
    }

    /**
     * Byte offsets (indices as rotatekv.cu's L_* names them): of one layer's per-position sections within a
     * page, [PAGE_STRIDE] apart; of one layer's per-sequence sections, [FIXED_STRIDE] apart; and of the page table.
     */
    static long[] layout(CudaRotateKv kv) {
        ModelConfig c = kv.config();
        long kvDim = c.kvDim();
        int slots = Math.max(1, kv.sinks());
        int window = windowTokens(kv);
        long[] lay = new long[13];
        long at = 0;
        at = section(lay, KEY_CODES, at, PAGE * kvDim / 4);
        at = section(lay, VALUE_CODES, at, PAGE * kvDim / 4);
        at = section(lay, KEY_SCALES, at, 4L * PAGE * (kvDim / kv.keyGroup()));
        at = section(lay, VALUE_SCALES, at, 4L * PAGE * (kvDim / kv.valueGroup()));
        lay[PAGE_STRIDE] = section(lay, FLAGS, at, PAGE);
        at = 0;
        at = section(lay, WINDOW_KEYS, at, 2L * window * kvDim);
        at = section(lay, WINDOW_VALUES, at, 2L * window * kvDim);
        at = section(lay, SINK_KEYS, at, 2L * slots * kvDim);
        at = section(lay, SINK_VALUES, at, 2L * slots * kvDim);
        lay[FIXED_STRIDE] = section(lay, TRACKER, at, 12L * slots + 4);
        lay[TABLE] = lay[FIXED_STRIDE] * c.numLayers();
        return lay;
    }

    /** Bytes of one page: every layer's per-position sections. */
    static long pageBytes(CudaRotateKv kv) {
        return layout(kv)[PAGE_STRIDE] * kv.config().numLayers();
    }

    private static long section(long[] lay, int index, long at, long size) {
        lay[index] = at;
        return at + (size + ALIGN - 1) / ALIGN * ALIGN;
    }

    CudaRotateKv method() {
        return kv;
    }

    /** Where {@code layer}'s per-sequence {@code section} starts. */
    long fixed(int layer, int section) {
        return address() + layer * offsets[FIXED_STRIDE] + offsets[section];
    }

    /** Where {@code layer}'s per-position {@code section} starts in the page of {@code position}. */
    long paged(int position, int layer, int section) {
        return page(position) + layer * offsets[PAGE_STRIDE] + offsets[section];
    }

    @Override
    void readyPage(long page) {
        kv.kernels().launch("rkv_init_page", kv.config().numLayers(), 1, 64, page, kv.layout());
    }

    /** Each layer's codes, scales and minimums: the sections before the sink slots. */
    @Override
    void fillRandom(long page, int seed) {
        for (int l = 0; l < kv.config().numLayers(); l++) {
            device.fillRandom(CudaDevice.at(page + l * offsets[PAGE_STRIDE]), offsets[FLAGS] / 2, seed * 131 + l, 1);
        }
    }

    /**
     * For benchmarks of filled caches ({@link #extendRandom}): the first positions own every sink activation, at a
     * magnitude no later token reaches, with random fp16 sink rows. That is a cache after a real prompt, whose first
     * token holds the largest activations by far; a filled cache's empty tracker would instead take every new token
     * through the tracker's walk, which a real decode step seldom needs.
     */
    public void settleSinks() {
        int sinks = kv.sinks();
        if (sinks == 0 || length() < sinks) {
            return;
        }
        // The tracker's layout (rotatekv.cu): magnitudes, their positions, each slot's position, then the count.
        ByteBuffer track = ByteBuffer.allocate(12 * sinks + 4).order(ByteOrder.LITTLE_ENDIAN);
        byte[] flags = new byte[sinks];
        for (int s = 0; s < sinks; s++) {
            track.putFloat(4 * s, Float.MAX_VALUE);
            track.putInt(4 * (sinks + s), s);
            track.putInt(4 * (2 * sinks + s), s);
            flags[s] = (byte) s;
        }
        track.putInt(12 * sinks, sinks);
        long rowHalves = (long) sinks * kv.config().kvDim();
        for (int l = 0; l < kv.config().numLayers(); l++) {
            device.writeBytes(fixed(l, TRACKER), track.array());
            device.writeBytes(paged(0, l, FLAGS), flags);
            device.fillRandom(CudaDevice.at(fixed(l, SINK_KEYS)), rowHalves, 977 * l + 1, 1);
            device.fillRandom(CudaDevice.at(fixed(l, SINK_VALUES)), rowHalves, 977 * l + 2, 1);
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

    /** On the device, shared by every cache of this method. */
    Pointer layout() {
        return kv.layout();
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
        kv.kernels().launch("rkv_truncate", kv.config().numLayers(), 1, 1, address(), kv.layout(), newLength);
    }
}
