package io.spillway.engine.cuda;

import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.kv.QuantizedKvCache;
import io.spillway.engine.kv.SpillFormat;
import io.spillway.engine.model.ModelConfig;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.KvMethod;
import io.spillway.kvquant.PackedBlock;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * A RotateKV-family KV method on the GPU for one model: {@code rotatekv.cu} compiled for the model's
 * shapes and the method's options, each layer's key-channel order and its inverse (which quantization
 * group each rotated channel lands in), and a RoPE cos/sin table for the positions in use. Makes the
 * {@link CudaRotateKvCache}s and launches their kernels for {@link CudaLlamaModel}.
 *
 * <p>On the GPU: 2-bit per-token groups on both sides, keys rotated over one or more heads, values
 * over one head or not at all, no AKVQ salient bits. Anything else is refused with the reason.
 */
public final class CudaRotateKv {
    private static final int THREADS = 256;
    /** rotatekv.cu's WARPS: the warps of an rkv_attend or rkv_unpack block (rkv_unpack decodes a position a warp). */
    private static final int WARPS = 4;

    private final CudaDevice device;
    private final ModelConfig config;
    private final KvMethod method;
    private final boolean residualWindow;
    private final CudaDevice.Kernels kernels;
    private final int rotationSize;
    private final int keyGroup;
    private final int valueGroup;
    private final int sinks;
    private final String calibrationId;
    private final Pointer order;
    private final Pointer keySlots;
    private final Pointer keyGroups;
    private final Pointer invFreq;
    private final Pointer layout;
    private final CudaPagePool pages;
    private Pointer ropeTable;
    private int ropePositions;

    CudaRotateKv(CudaDevice device, ModelConfig c, Pointer invFreq, KvMethod method, Calibration calibration,
                 boolean residualWindow) {
        String why = unsupported(method);
        if (why == null) {
            why = unsupported(method, c);
        }
        if (why != null) {
            throw new IllegalArgumentException("--kv " + method.name() + " cannot run on the GPU: " + why);
        }
        this.device = device;
        this.config = c;
        this.method = method;
        this.residualWindow = residualWindow;
        this.invFreq = invFreq;
        KvLayout kvLayout = KvLayout.of(c);
        int d = c.headDim();
        boolean rotateKeys = method.keys().rotationHeads() > 0;
        // Without a key rotation the lanes still take channels by groups of heads; nothing mixes them.
        this.rotationSize = rotateKeys ? QuantizedKvCache.keyRotationSize(method, kvLayout) : layoutGroup(c);
        this.keyGroup = method.keys().groupSize() == 0 ? d : method.keys().groupSize();
        this.valueGroup = method.values().groupSize() == 0 ? d : method.values().groupSize();
        this.sinks = method.sinkActivations();
        int kvDim = c.kvDim();
        int[][] orders = QuantizedKvCache.keyOrders(method, calibration, kvLayout);
        this.calibrationId = orders == null ? "" : calibration.id();
        byte[] groups = new byte[c.numLayers() * kvDim];
        int[] flat = new int[c.numLayers() * kvDim];
        int[] slots = new int[c.numLayers() * kvDim];
        for (int l = 0; l < c.numLayers(); l++) {
            for (int s = 0; s < kvDim; s++) {
                int channel = orders == null ? s : orders[l][s];
                flat[l * kvDim + s] = channel;
                slots[l * kvDim + channel] = s;
                groups[l * kvDim + channel] = (byte) (s / keyGroup);
            }
        }
        this.order = orders == null ? new Pointer() : device.upload(flat);
        this.keySlots = orders == null ? new Pointer() : device.upload(slots);
        this.keyGroups = device.alloc(groups.length);
        device.toDevice(keyGroups, new org.bytedeco.javacpp.BytePointer(groups), groups.length);
        List<String> defines = new ArrayList<>(List.of("HD=" + d, "HEADS=" + c.numHeads(), "QPK=" + c.numHeads() / c.numKvHeads(),
                "KVD=" + kvDim, "HID=" + c.hiddenSize(), "RS=" + rotationSize, "KGROUP=" + keyGroup, "VGROUP=" + valueGroup,
                "NSINK=" + Math.max(1, sinks), "QKVS=" + (c.qDim() + 2 * kvDim), "KROT=" + (rotateKeys ? 1 : 0),
                "VROT=" + (method.values().rotationHeads() == 1 ? 1 : 0), "PREROPE=" + (method.preRope() ? 1 : 0)));
        this.kernels = device.kernels("rotatekv.cu", defines);
        long[] lay = CudaRotateKvCache.layout(this);
        this.layout = device.alloc(8L * lay.length);
        device.uploadLongs(layout, lay);
        this.pages = new CudaPagePool(device, CudaRotateKvCache.pageBytes(this));
    }

    /** Why the GPU kernels cannot run {@code m} on any model, or null when they can. */
    public static String unsupported(KvMethod m) {
        if (!m.quantized()) {
            return "it is not a quantized method";
        }
        if (m.keys().bits() != 2 || m.values().bits() != 2) {
            return "the GPU kernels pack 2-bit codes only (bits=2)";
        }
        if (m.keys().axis() != PackedBlock.Axis.TOKEN || m.values().axis() != PackedBlock.Axis.TOKEN) {
            return "the GPU kernels quantize per token (KIVI's per-channel keys run on the CPU)";
        }
        if (m.salientFraction() > 0) {
            return "AKVQ's salient-token bits run on the CPU";
        }
        if (m.values().rotationHeads() > 1) {
            return "values rotate one head at a time";
        }
        if (m.sinkActivations() > 32) {
            return "at most 32 sink activations (sinks=" + m.sinkActivations() + ")";
        }
        return null;
    }

    /** Why the kernels cannot take {@code c}'s shapes with {@code m}'s rotation and groups, or null. */
    private static String unsupported(KvMethod m, ModelConfig c) {
        int d = c.headDim();
        int qpk = c.numHeads() / c.numKvHeads();
        if (d != 64 && d != 128) {
            return "head_dim must be 64 or 128, got " + d;
        }
        if (Integer.bitCount(qpk) != 1) {
            return "query heads per KV head must be a power of two, got " + qpk;
        }
        int heads = m.keys().rotationHeads() > 0 ? Math.min(m.keys().rotationHeads(), c.numKvHeads()) : layoutGroup(c) / d;
        int rs = heads * d;
        if (rs != 128 && rs != 256 && rs != 512 || c.numKvHeads() % heads != 0 || heads * qpk > 32) {
            return "a key rotation of " + heads + " heads of " + d + " (" + qpk + " query heads each) does not fit the"
                    + " kernels: they need 128, 256 or 512 channels dividing the KV heads, at most 32 query heads";
        }
        int kg = m.keys().groupSize() == 0 ? d : m.keys().groupSize();
        int vg = m.values().groupSize() == 0 ? d : m.values().groupSize();
        if (c.kvDim() % kg != 0 || c.kvDim() % vg != 0 || c.kvDim() / kg > 16) {
            return "groups of " + kg + "/" + vg + " channels must divide the " + c.kvDim() + " KV channels, at most 16 key groups";
        }
        return null;
    }

    /** The lanes' channel grouping when keys are not rotated: the largest of 512, 256, 128 that fits. */
    private static int layoutGroup(ModelConfig c) {
        for (int rs : new int[] {512, 256, 128}) {
            if (rs % c.headDim() == 0 && c.kvDim() % rs == 0 && rs / c.headDim() * (c.numHeads() / c.numKvHeads()) <= 32) {
                return rs;
            }
        }
        return c.headDim();
    }

    public KvMethod method() {
        return method;
    }

    /** Whether the newest block stays fp16 until full ({@code decode} mode) or every token is packed ({@code all}). */
    public boolean residualWindow() {
        return residualWindow;
    }

    /** What its caches' spills hold: the CPU {@link QuantizedKvCache}'s format for the same method and calibration. */
    SpillFormat spillFormat() {
        return new SpillFormat(method.name(), 2, 2, keyGroup, calibrationId, KvLayout.of(config), method.blockTokens());
    }

    int sinks() {
        return sinks;
    }

    int keyGroup() {
        return keyGroup;
    }

    int valueGroup() {
        return valueGroup;
    }

    ModelConfig config() {
        return config;
    }

    CudaDevice.Kernels kernels() {
        return kernels;
    }

    /** Blocks of the decode attention kernel the device holds at once (a wave of them). */
    long attendWave() {
        return kernels.resident("rkv_attend", WARPS * 32, 0);
    }

    /** What ptxas made of the decode attention kernel: registers and spilled bytes per thread. */
    public String attentionResources() {
        int[] r = kernels.resources("rkv_attend");
        return "rkv_attend: " + r[0] + " registers, " + r[1] + " local bytes per thread";
    }

    /** A cache for sequences of up to {@code capacity} tokens. */
    public CudaRotateKvCache newCache(int capacity) {
        if (capacity < 1 || capacity > config.maxPositions()) {
            throw new IllegalArgumentException("cache capacity must be in [1, " + config.maxPositions() + "], got " + capacity);
        }
        ensureRope(capacity);
        return new CudaRotateKvCache(device, pages, this, capacity);
    }

    /** The device copy of {@link CudaRotateKvCache#layout}'s offsets, shared by every cache of this method. */
    Pointer layout() {
        return layout;
    }

    /** The RoPE table's device address: it moves when a longer cache is made. */
    long ropeAddress() {
        return ropeTable.address();
    }

    private void ensureRope(int positions) {
        if (positions <= ropePositions) {
            return;
        }
        if (ropeTable != null) {
            device.free(ropeTable);
        }
        long n = (long) positions * (config.headDim() / 2);
        ropeTable = device.alloc(8 * n);
        kernels.launch("rope_table", CudaDevice.blocks(n, THREADS), 1, THREADS, invFreq, positions, ropeTable);
        ropePositions = positions;
    }

    /**
     * Applies RoPE to the step's queries (and keys, unless the method quantizes them before it) in place, and packs
     * the new keys and values (v is rotated in place).
     */
    void append(Pointer q, Pointer k, Pointer v, Pointer pos, Pointer keepFrom, Pointer caches, Pointer layout, int tokens, int layer) {
        kernels.launch("rkv_append", tokens, 1, THREADS, q, k, v, pos, keepFrom, caches, layout, layer, order, ropeTable);
    }

    /** Offers each sequence's new tokens' layer inputs to its sink tracker, in order. */
    void trackSinks(Pointer x, Pointer k, Pointer v, Pointer seqFirst, Pointer seqCount, Pointer pos, Pointer caches,
                    Pointer layout, int sequences, int layer) {
        if (sinks > 0) {
            kernels.launch("rkv_sinks", sequences, 1, THREADS, x, k, v, seqFirst, seqCount, pos, caches, layout, layer);
        }
    }

    /** Attention of every token over its sequence, written as fp16 to {@code out}; {@code partial} holds the chunks. */
    void attend(Pointer q, Pointer pos, Pointer windowStart, Pointer caches, Pointer layout, int layer, int tokens,
                int splits, int chunk, Pointer partial, Pointer out) {
        kernels.launch("rkv_attend", new int[] {tokens, config.kvDim() / rotationSize, splits}, WARPS * 32, q, pos, windowStart, caches,
                layout, layer, keyGroups, ropeTable, chunk, partial);
        kernels.launch("rkv_combine", tokens, config.numHeads(), config.headDim(), partial, splits, out);
    }

    /**
     * Decodes the sequences of a step's prefill chunks (the last token of each in {@code seqLast}) into fp16
     * rows for llama.cu's prefill attention: keys with RoPE, values un-rotated, {@code span} positions a sequence.
     */
    void unpack(Pointer seqLast, Pointer pos, Pointer windowStart, Pointer caches, Pointer layout, int layer, int sequences,
                int span, Pointer rows) {
        kernels.launch("rkv_unpack", new int[] {(span + WARPS - 1) / WARPS, config.kvDim() / rotationSize, sequences}, WARPS * 32, seqLast, pos,
                windowStart, caches, layout, layer, keyGroups, ropeTable, rows, span);
    }

    /**
     * Copies the packed codes of positions {@code [0, rows)} of {@code layer} to {@code out} in the CPU cache's
     * layout (slot order, four codes a byte): keys, then values, {@code rows * kvDim / 4} bytes each.
     */
    void spillCodes(CudaRotateKvCache cache, int layer, int rows, Pointer out) {
        kernels.launch("rkv_spill_codes", CudaDevice.blocks(2L * rows * config.kvDim() / 4, THREADS), 1, THREADS, cache.address(),
                cache.layout(), layer, order, rows, out);
    }

    /** The inverse of {@link #spillCodes}: {@code in} holds both sides in the CPU's layout. */
    void restoreCodes(CudaRotateKvCache cache, int layer, int rows, Pointer in) {
        kernels.launch("rkv_restore_codes", CudaDevice.blocks(2L * rows * config.kvDim() / 4, THREADS), 1, THREADS, cache.address(),
                cache.layout(), layer, keySlots, rows, in);
    }

    /** Bytes of {@code partial} that {@link #attend} needs. */
    long partialBytes(int tokens, int splits) {
        return 4L * tokens * config.numHeads() * splits * (config.headDim() + 2);
    }

    /** Attention groups per token (for splitting long contexts). */
    int groupsPerToken() {
        return config.kvDim() / rotationSize;
    }
}
