package io.spillway.engine.kv;

import io.spillway.engine.runtime.Rope;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.ChannelRotation;
import io.spillway.kvquant.Hadamard;
import io.spillway.kvquant.KvMethod;
import io.spillway.kvquant.PackedBlock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A KV cache quantized by a {@link KvMethod}: tokens gather in an fp16 block (the residual window)
 * and are packed when it fills, or at the end of every write when the window is off. RotateKV keys
 * are stored before RoPE, Hadamard-rotated over a group of heads and channel-reordered; values are
 * rotated per head, and attention outputs rotated back once per head. Attention-sink tokens keep fp16
 * rows beside their packed ones. AKVQ gives the tokens that received the most attention more bits.
 *
 * <p>On the CPU, {@link #prepare} decodes one layer of one sequence to fp32 for the attention of a
 * step, into buffers lent by {@link DecodeBuffers} until the step commits (the next layer reuses them):
 * between steps the cache holds only what {@link #bytes} counts.
 */
public final class QuantizedKvCache extends PagedKvCache implements SpillableKvCache {
    private final KvMethod method;
    private final Rope rope;
    private final boolean residualWindow;
    private final int kvDim;
    private final ChannelRotation[] keyRotation;
    private final ChannelRotation valueRotation;
    private final int keyGroup;
    private final int valueGroup;
    private final LayerState[] layers;
    private final String calibrationId;
    private final DecodeBuffers buffers;
    /** One token's keys then values in fp32 while {@link #write} stores them. */
    private final float[] incoming;
    /** The decode buffers of the step under way; null between steps. */
    private DecodeBuffers.Lease lease;

    private final class LayerState {
        final List<PackedBlock> keyBlocks = new ArrayList<>();
        final List<PackedBlock> valueBlocks = new ArrayList<>();
        final List<Integer> blockStarts = new ArrayList<>();
        /** The fp16 window's rows as fp16 bits: keys (after RoPE unless stored before it), values rotated. */
        final short[] resKeys = new short[blockSize * kvDim];
        final short[] resValues = new short[blockSize * kvDim];
        final float[] resRopedKeys;
        final float[] resSalience = new float[blockSize];
        int resStart;
        int resCount;
        final SinkTracker sinks = new SinkTracker(method.sinkActivations());
        /** Position -> fp16 bits of a sink token's keys and values. */
        final Map<Integer, short[][]> sinkRows = new HashMap<>();

        LayerState() {
            resRopedKeys = method.salientFraction() > 0 ? new float[blockSize * kvDim] : null;
        }

        int tokens() {
            return resStart + resCount;
        }
    }

    /**
     * @param calibration channel orders for RotateKV's key reordering; required when the method reorders
     * @param residualWindow keep the newest block in fp16 until it fills ({@code decode} mode), or pack
     *                       every token at once ({@code all} mode)
     */
    public QuantizedKvCache(KvLayout layout, Rope rope, KvMethod method, Calibration calibration, boolean residualWindow) {
        super(layout, method.blockTokens());
        if (!method.quantized()) {
            throw new IllegalArgumentException(method.name() + " is not a quantized method");
        }
        this.method = method;
        this.buffers = DecodeBuffers.of(layout);
        this.rope = rope;
        this.residualWindow = residualWindow;
        this.kvDim = layout.kvDim();
        this.incoming = new float[2 * kvDim];
        int d = layout.headDim();
        this.keyGroup = method.keys().groupSize() == 0 ? d : method.keys().groupSize();
        this.valueGroup = method.values().groupSize() == 0 ? d : method.values().groupSize();
        if (method.values().rotationHeads() > 1) {
            throw new IllegalArgumentException(method.name() + ": values rotate one head at a time");
        }
        if (method.salientFraction() > 0 && method.keys().axis() != PackedBlock.Axis.TOKEN) {
            throw new IllegalArgumentException(method.name() + ": salient-token bits need per-token key groups");
        }
        int keyRotationSize = keyRotationSize(method, layout);
        int[][] orders = keyOrders(method, calibration, layout);
        this.keyRotation = new ChannelRotation[layout.layers()];
        for (int l = 0; l < layout.layers(); l++) {
            keyRotation[l] = new ChannelRotation(kvDim, keyRotationSize, orders == null ? null : orders[l]);
        }
        this.calibrationId = method.keys().reorder() ? calibration.id() : "";
        this.valueRotation = new ChannelRotation(kvDim, method.values().rotationHeads() == 1 ? d : 1, null);
        this.layers = new LayerState[layout.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = new LayerState();
        }
    }

    /** Channels per key Hadamard group: a group of heads, or 1 (no rotation). */
    public static int keyRotationSize(KvMethod method, KvLayout layout) {
        return Math.max(1, Math.min(method.keys().rotationHeads(), layout.kvHeads()) * layout.headDim());
    }

    /**
     * Each layer's key-channel gather order from the calibration, or null when the method does not
     * reorder; refuses a missing calibration or one made for other shapes. Both backends use it.
     */
    public static int[][] keyOrders(KvMethod method, Calibration calibration, KvLayout layout) {
        if (!method.keys().reorder()) {
            return null;
        }
        if (calibration == null) {
            throw new IllegalArgumentException(method.name() + " reorders key channels and needs the model's "
                    + Calibration.FILE_NAME + " (or, for rotation size " + keyRotationSize(method, layout) + ", "
                    + Calibration.fileName(keyRotationSize(method, layout)) + "): run bin/spillway calibrate --method "
                    + method.name() + " (or add reorder=off)");
        }
        int rotationSize = keyRotationSize(method, layout);
        if (calibration.layers() != layout.layers() || calibration.rotationSize() != rotationSize) {
            throw new IllegalArgumentException("the calibration (" + calibration.layers() + " layers, rotation size "
                    + calibration.rotationSize() + ") does not fit " + method.name() + " on this model ("
                    + layout.layers() + " layers, rotation size " + rotationSize + "): recalibrate");
        }
        int[][] orders = new int[layout.layers()][];
        for (int l = 0; l < orders.length; l++) {
            orders[l] = calibration.order(l);
        }
        return orders;
    }

    public KvMethod method() {
        return method;
    }

    /** The calibration whose channel orders the packed keys use; empty when the method does not reorder. */
    public String calibrationId() {
        return calibrationId;
    }

    @Override
    public SpillFormat spillFormat() {
        return new SpillFormat(method.name(), method.keys().bits(), method.values().bits(), keyGroup, calibrationId, layout,
                blockSize);
    }

    /** Packed blocks verbatim, the fp16 window, the sinks. */
    @Override
    public void writeLayer(int layer, java.io.DataOutput out) throws java.io.IOException {
        LayerState st = layers[layer];
        out.writeInt(st.keyBlocks.size());
        for (int b = 0; b < st.keyBlocks.size(); b++) {
            out.writeInt(st.blockStarts.get(b));
            st.keyBlocks.get(b).writeTo(out);
            st.valueBlocks.get(b).writeTo(out);
        }
        out.writeInt(st.resStart);
        out.writeInt(st.resCount);
        writeHalfs(out, st.resKeys, st.resCount * kvDim);
        writeHalfs(out, st.resValues, st.resCount * kvDim);
        for (int t = 0; t < st.resCount; t++) {
            out.writeFloat(st.resSalience[t]);
        }
        st.sinks.writeTo(out);
        out.writeInt(st.sinkRows.size());
        for (var e : new java.util.TreeMap<>(st.sinkRows).entrySet()) {
            out.writeInt(e.getKey());
            writeHalfs(out, e.getValue()[0], kvDim);
            writeHalfs(out, e.getValue()[1], kvDim);
        }
    }

    @Override
    public void readLayer(int layer, java.io.DataInput in, int tokens) throws java.io.IOException {
        LayerState st = layers[layer];
        int blocks = in.readInt();
        if (blocks < 0 || blocks > tokens) {
            throw new java.io.IOException("corrupt layer " + layer + ": " + blocks + " blocks for " + tokens + " tokens");
        }
        int next = 0;
        for (int b = 0; b < blocks; b++) {
            int start = in.readInt();
            PackedBlock k = PackedBlock.readFrom(in);
            PackedBlock v = PackedBlock.readFrom(in);
            if (start != next || k.rows() != v.rows() || k.cols() != kvDim || v.cols() != kvDim || k.rows() > blockSize) {
                throw new java.io.IOException("corrupt layer " + layer + ": block " + b + " does not fit the cache's shape");
            }
            st.blockStarts.add(start);
            st.keyBlocks.add(k);
            st.valueBlocks.add(v);
            next = start + k.rows();
        }
        st.resStart = in.readInt();
        st.resCount = in.readInt();
        if (st.resStart != next || st.resCount < 0 || st.resCount >= blockSize || st.resStart + st.resCount != tokens) {
            throw new java.io.IOException("corrupt layer " + layer + ": window of " + st.resCount + " tokens at "
                    + st.resStart + " does not end at " + tokens);
        }
        readHalfs(in, st.resKeys, st.resCount * kvDim);
        readHalfs(in, st.resValues, st.resCount * kvDim);
        for (int t = 0; t < st.resCount; t++) {
            st.resSalience[t] = in.readFloat();
        }
        if (st.resRopedKeys != null) {
            for (int t = 0; t < st.resCount; t++) {
                toFloats(st.resKeys, t * kvDim, st.resRopedKeys, t * kvDim, kvDim);
                if (method.preRope()) {
                    rope.rotate(st.resRopedKeys, t * kvDim, layout.kvHeads(), st.resStart + t);
                }
            }
        }
        st.sinks.restore(in, tokens);
        int sinks = in.readInt();
        if (sinks < 0 || sinks > method.sinkActivations()) {
            throw new java.io.IOException("corrupt layer " + layer + ": " + sinks + " sink rows");
        }
        for (int i = 0; i < sinks; i++) {
            int pos = in.readInt();
            short[] k = new short[kvDim];
            short[] v = new short[kvDim];
            readHalfs(in, k, kvDim);
            readHalfs(in, v, kvDim);
            if (pos < 0 || pos >= st.resStart || !st.sinks.isSink(pos)) {
                throw new java.io.IOException("corrupt layer " + layer + ": sink row for position " + pos);
            }
            st.sinkRows.put(pos, new short[][] {k, v});
        }
    }

    @Override
    public void restored(int tokens) {
        restoredLength(tokens);
    }

    private static void writeHalfs(java.io.DataOutput out, short[] x, int n) throws java.io.IOException {
        for (int i = 0; i < n; i++) {
            out.writeShort(x[i]);
        }
    }

    private static void readHalfs(java.io.DataInput in, short[] x, int n) throws java.io.IOException {
        for (int i = 0; i < n; i++) {
            x[i] = in.readShort();
        }
    }

    private static void toHalves(float[] src, int from, short[] dst, int at, int n) {
        for (int i = 0; i < n; i++) {
            dst[at + i] = Float.floatToFloat16(src[from + i]);
        }
    }

    private static void toFloats(short[] src, int from, float[] dst, int at, int n) {
        for (int i = 0; i < n; i++) {
            dst[at + i] = Float.float16ToFloat(src[from + i]);
        }
    }

    @Override
    public void write(int layer, LayerRows rows, int first, int count) {
        LayerState st = layers[layer];
        for (int i = 0; i < count; i++) {
            int pos = st.tokens();
            int row = first + i;
            int at = st.resCount * kvDim;
            System.arraycopy(rows.keys(), row * kvDim, incoming, 0, kvDim);
            if (!method.preRope()) {
                rope.rotate(incoming, 0, layout.kvHeads(), pos);
            }
            System.arraycopy(rows.values(), row * kvDim, incoming, kvDim, kvDim);
            valueRotation.forward(incoming, kvDim);
            toHalves(incoming, 0, st.resKeys, at, kvDim);
            toHalves(incoming, kvDim, st.resValues, at, kvDim);
            st.sinks.offer(pos, rows.hidden(), row * rows.hiddenWidth(), rows.hiddenWidth());
            // A stronger activation may have displaced an older sink: its packed row serves again.
            st.sinkRows.keySet().removeIf(p -> !st.sinks.isSink(p));
            if (st.resRopedKeys != null) {
                toFloats(st.resKeys, at, st.resRopedKeys, at, kvDim);
                if (method.preRope()) {
                    rope.rotate(st.resRopedKeys, at, layout.kvHeads(), pos);
                }
                st.resSalience[st.resCount] = 0;
                accumulateSalience(st, rows.queries(), row * rows.queryWidth(), st.resCount + 1);
            }
            st.resCount++;
            if (st.resCount == blockSize) {
                seal(layer);
            }
        }
        if (!residualWindow && st.resCount > 0) {
            seal(layer);
        }
    }

    /** AKVQ's attention-aware signal: the softmax attention each window token receives from a new query, summed over heads. */
    private void accumulateSalience(LayerState st, float[] q, int qOff, int n) {
        int d = layout.headDim();
        float scale = (float) (1 / Math.sqrt(d));
        float[] p = new float[n];
        for (int h = 0; h < layout.heads(); h++) {
            int kvOff = h / layout.groupSize() * d;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                p[j] = io.spillway.engine.tensor.VectorMath.dot(q, qOff + h * d, st.resRopedKeys, j * kvDim + kvOff, d) * scale;
                max = Math.max(max, p[j]);
            }
            float sum = 0;
            for (int j = 0; j < n; j++) {
                p[j] = (float) Math.exp(p[j] - max);
                sum += p[j];
            }
            for (int j = 0; j < n; j++) {
                st.resSalience[j] += p[j] / sum;
            }
        }
    }

    private void seal(int layer) {
        LayerState st = layers[layer];
        int n = st.resCount;
        float[] keys = new float[n * kvDim];
        float[] values = new float[n * kvDim];
        toFloats(st.resKeys, 0, keys, 0, n * kvDim);
        toFloats(st.resValues, 0, values, 0, n * kvDim);
        for (int t = 0; t < n; t++) {
            keyRotation[layer].forward(keys, t * kvDim);
        }
        int[] keyBits = bitsPerToken(st, n, method.keys().bits());
        int[] valueBits = bitsPerToken(st, n, method.values().bits());
        st.keyBlocks.add(method.keys().axis() == PackedBlock.Axis.TOKEN
                ? PackedBlock.perToken(keys, 0, n, kvDim, keyGroup, keyBits)
                : PackedBlock.perChannel(keys, 0, n, kvDim, keyGroup, method.keys().bits()));
        st.valueBlocks.add(PackedBlock.perToken(values, 0, n, kvDim, valueGroup, valueBits));
        st.blockStarts.add(st.resStart);
        for (int t = 0; t < n; t++) {
            if (st.sinks.isSink(st.resStart + t)) {
                st.sinkRows.put(st.resStart + t, new short[][] {
                        java.util.Arrays.copyOfRange(st.resKeys, t * kvDim, (t + 1) * kvDim),
                        java.util.Arrays.copyOfRange(st.resValues, t * kvDim, (t + 1) * kvDim)});
            }
        }
        st.resStart += n;
        st.resCount = 0;
    }

    private int[] bitsPerToken(LayerState st, int n, int bits) {
        int[] out = new int[n];
        java.util.Arrays.fill(out, bits);
        int salient = (int) Math.ceil(method.salientFraction() * n);
        if (salient > 0) {
            Integer[] idx = new Integer[n];
            for (int i = 0; i < n; i++) {
                idx[i] = i;
            }
            java.util.Arrays.sort(idx, (a, b) -> Float.compare(st.resSalience[b], st.resSalience[a]));
            for (int i = 0; i < salient; i++) {
                out[idx[i]] = method.salientBits();
            }
        }
        return out;
    }

    @Override
    public void prepare(int layer) {
        LayerState st = layers[layer];
        int n = st.tokens();
        if (lease == null || lease.tokens() < n) {
            release();
            lease = buffers.take(n);
        }
        float[] row = lease.row();
        for (int b = 0; b < st.keyBlocks.size(); b++) {
            PackedBlock kb = st.keyBlocks.get(b);
            PackedBlock vb = st.valueBlocks.get(b);
            int start = st.blockStarts.get(b);
            for (int r = 0; r < kb.rows(); r++) {
                int pos = start + r;
                short[][] sink = st.sinkRows.get(pos);
                if (sink != null) {
                    toFloats(sink[0], 0, row, 0, kvDim);
                    toFloats(sink[1], 0, row, kvDim, kvDim);
                } else {
                    kb.dequantizeRow(r, row, 0);
                    keyRotation[layer].inverse(row, 0);
                    vb.dequantizeRow(r, row, kvDim);
                }
                scatter(pos, row);
            }
        }
        for (int t = 0; t < st.resCount; t++) {
            toFloats(st.resKeys, t * kvDim, row, 0, kvDim);
            toFloats(st.resValues, t * kvDim, row, kvDim, kvDim);
            scatter(st.resStart + t, row);
        }
    }

    /** Puts one decoded token (keys then values, all heads) into the per-head buffers, applying RoPE if stored before it. */
    private void scatter(int pos, float[] kv) {
        if (method.preRope()) {
            rope.rotate(kv, 0, layout.kvHeads(), pos);
        }
        int d = layout.headDim();
        for (int h = 0; h < layout.kvHeads(); h++) {
            System.arraycopy(kv, h * d, lease.keys()[h], pos * d, d);
            System.arraycopy(kv, kvDim + h * d, lease.values()[h], pos * d, d);
        }
    }

    @Override
    protected void keys(int layer, int block, int kvHead, int tokens, BlockView view) {
        view.array = lease.keys()[kvHead];
        view.offset = block * blockSize * layout.headDim();
    }

    @Override
    protected void values(int layer, int block, int kvHead, int tokens, BlockView view) {
        view.array = lease.values()[kvHead];
        view.offset = block * blockSize * layout.headDim();
    }

    @Override
    protected void finishOutput(float[] out, int outOff) {
        if (method.values().rotationHeads() == 1) {
            Hadamard.transform(out, outOff, layout.headDim());
        }
    }

    @Override
    protected void dropAfter(int newLength) {
        for (LayerState st : layers) {
            if (newLength < st.resStart) {
                throw new IllegalArgumentException("a quantized cache can only be truncated within its fp16 window (from "
                        + st.resStart + "), not to " + newLength);
            }
            st.resCount = newLength - st.resStart;
            st.sinks.dropFrom(newLength);
        }
    }

    @Override
    public long bytes() {
        long bytes = 0;
        for (LayerState st : layers) {
            for (int b = 0; b < st.keyBlocks.size(); b++) {
                bytes += st.keyBlocks.get(b).bytes() + st.valueBlocks.get(b).bytes();
            }
            bytes += (long) st.resCount * kvDim * 2 * 2;
            bytes += (long) st.sinkRows.size() * (kvDim * 2 * 2 + Integer.BYTES);
        }
        return bytes;
    }

    /** Stored bits per cached K or V element, everything included: codes, scales, mins, sinks, residual. */
    public double bitsPerElement() {
        long elements = (long) length() * kvDim * 2 * layers.length;
        return elements == 0 ? 0 : bytes() * 8.0 / elements;
    }

    @Override
    public void close() {
        for (LayerState st : layers) {
            st.keyBlocks.clear();
            st.valueBlocks.clear();
            st.blockStarts.clear();
            st.sinkRows.clear();
            st.resCount = 0;
        }
        release();
    }

    /** Ends the step: the decode buffers go back to the pool. */
    @Override
    public void commit(int count) {
        super.commit(count);
        release();
    }

    /** Whether it holds decode buffers now: only between {@link #prepare} and the step's commit. */
    boolean holdsDecodeBuffers() {
        return lease != null;
    }

    private void release() {
        if (lease != null) {
            buffers.give(lease);
            lease = null;
        }
    }
}
