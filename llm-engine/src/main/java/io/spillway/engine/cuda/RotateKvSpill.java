package io.spillway.engine.cuda;

import io.spillway.kvquant.PackedBlock;
import org.bytedeco.javacpp.Pointer;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One layer of a {@link CudaRotateKvCache} in the CPU {@code QuantizedKvCache}'s spill form and back:
 * packed blocks of {@code blockTokens} rows (codes in quantization-slot order, where the GPU keeps them
 * by rotated channel in its lanes' words: rotatekv.cu's rkv_spill_codes and rkv_restore_codes reorder them
 * on the device), the fp16 window, the sink tracker and the sinks' fp16 rows. Nothing is dequantized: the
 * codes, scales and minimums move bit for bit.
 */
final class RotateKvSpill {
    private final CudaRotateKvCache cache;
    private final CudaRotateKv kv;
    private final int kvDim;
    private final int keyGroups;
    private final int valueGroups;
    private final int slots;

    RotateKvSpill(CudaRotateKvCache cache) {
        this.cache = cache;
        this.kv = cache.method();
        this.kvDim = kv.config().kvDim();
        this.keyGroups = kvDim / kv.keyGroup();
        this.valueGroups = kvDim / kv.valueGroup();
        this.slots = Math.max(1, kv.sinks());
    }

    void write(int layer, DataOutput out) throws IOException {
        int tokens = cache.length();
        int from = cache.windowStart(tokens);
        int block = kv.method().blockTokens();
        int side = from * kvDim / 4;
        byte[] codes = new byte[0];
        if (side > 0) {
            Pointer staging = cache.device.alloc(2L * side);
            try {
                kv.spillCodes(cache, layer, from, staging);
                codes = cache.device.readBytes(staging.address(), 2 * side);
            } finally {
                cache.device.free(staging);
            }
        }
        ByteBuffer ksm = le(readPositions(layer, CudaRotateKvCache.KEY_SCALES, 4 * keyGroups, from));
        ByteBuffer vsm = le(readPositions(layer, CudaRotateKvCache.VALUE_SCALES, 4 * valueGroups, from));
        out.writeInt((from + block - 1) / block);
        for (int start = 0; start < from; start += block) {
            int rows = Math.min(block, from - start);
            out.writeInt(start);
            packed(codes, 0, ksm, start, rows, kv.keyGroup(), keyGroups).writeTo(out);
            packed(codes, side, vsm, start, rows, kv.valueGroup(), valueGroups).writeTo(out);
        }
        int window = tokens - from;
        out.writeInt(from);
        out.writeInt(window);
        SpillHalves.write(out, read(layer, CudaRotateKvCache.WINDOW_KEYS, 2 * window * kvDim), 0, window * kvDim);
        SpillHalves.write(out, read(layer, CudaRotateKvCache.WINDOW_VALUES, 2 * window * kvDim), 0, window * kvDim);
        for (int t = 0; t < window; t++) {
            out.writeFloat(0); // AKVQ's window salience: the GPU kernels run no salient bits
        }
        ByteBuffer track = le(read(layer, CudaRotateKvCache.TRACKER, 12 * slots + 4));
        int count = track.getInt(12 * slots);
        out.writeInt(count);
        for (int i = 0; i < count; i++) {
            out.writeFloat(track.getFloat(4 * i));
            out.writeInt(track.getInt(4 * (slots + i)));
        }
        Map<Integer, Integer> sinkSlots = new TreeMap<>();
        for (int s = 0; s < slots; s++) {
            int position = track.getInt(4 * (2 * slots + s));
            if (position >= 0 && position < from) {
                sinkSlots.put(position, s);
            }
        }
        out.writeInt(sinkSlots.size());
        for (var e : sinkSlots.entrySet()) {
            out.writeInt(e.getKey());
            for (int section : new int[] {CudaRotateKvCache.SINK_KEYS, CudaRotateKvCache.SINK_VALUES}) {
                byte[] row = cache.device.readBytes(cache.fixed(layer, section) + 2L * e.getValue() * kvDim, 2 * kvDim);
                SpillHalves.write(out, row, 0, kvDim);
            }
        }
    }

    void read(int layer, DataInput in, int tokens) throws IOException {
        cache.checkRestore(tokens);
        int from = cache.windowStart(tokens);
        int block = kv.method().blockTokens();
        int side = tokens * kvDim / 4;
        byte[] codes = new byte[2 * side];
        ByteBuffer ksm = le(new byte[4 * tokens * keyGroups]);
        ByteBuffer vsm = le(new byte[4 * tokens * valueGroups]);
        int blocks = in.readInt();
        if (blocks < 0 || blocks > tokens) {
            throw corrupt(layer, blocks + " blocks for " + tokens + " tokens");
        }
        int next = 0;
        for (int b = 0; b < blocks; b++) {
            int start = in.readInt();
            PackedBlock k = PackedBlock.readFrom(in);
            PackedBlock v = PackedBlock.readFrom(in);
            if (start != next || k.rows() != v.rows() || k.rows() > block || start + k.rows() > tokens
                    || !fits(k, kv.keyGroup()) || !fits(v, kv.valueGroup())) {
                throw corrupt(layer, "block " + b + " does not fit the cache's shape");
            }
            unpack(k, codes, 0, ksm, start, keyGroups);
            unpack(v, codes, side, vsm, start, valueGroups);
            next = start + k.rows();
        }
        int windowStart = in.readInt();
        int window = in.readInt();
        if (windowStart != next || window < 0 || windowStart + window != tokens) {
            throw corrupt(layer, "window of " + window + " tokens at " + windowStart + " does not end at " + tokens);
        }
        if (windowStart != from) {
            throw new IOException("layer " + layer + ": the spill's fp16 window starts at " + windowStart + ", this cache's "
                    + (kv.residualWindow() ? "decode" : "all") + " mode keeps it from " + from + " (written in the other --kv-mode)");
        }
        byte[] wk = new byte[2 * window * kvDim];
        byte[] wv = new byte[2 * window * kvDim];
        SpillHalves.read(in, wk, 0, window * kvDim);
        SpillHalves.read(in, wv, 0, window * kvDim);
        for (int t = 0; t < window; t++) {
            in.readFloat();
        }
        Sinks sinks = Sinks.read(in, layer, tokens, from, kv.sinks(), kvDim);
        if (side > 0) {
            Pointer staging = cache.device.alloc(2L * side);
            try {
                cache.device.writeBytes(staging.address(), codes);
                kv.restoreCodes(cache, layer, tokens, staging);
                cache.device.synchronize();
            } finally {
                cache.device.free(staging);
            }
        }
        writePositions(layer, CudaRotateKvCache.KEY_SCALES, 4 * keyGroups, ksm.array());
        writePositions(layer, CudaRotateKvCache.VALUE_SCALES, 4 * valueGroups, vsm.array());
        write(layer, CudaRotateKvCache.WINDOW_KEYS, wk);
        write(layer, CudaRotateKvCache.WINDOW_VALUES, wv);
        byte[] flags = new byte[tokens];
        Arrays.fill(flags, (byte) -1);
        ByteBuffer track = le(new byte[12 * slots + 4]);
        for (int i = 0; i < sinks.count(); i++) {
            track.putFloat(4 * i, sinks.magnitudes[i]);
            track.putInt(4 * (slots + i), sinks.positions[i]);
        }
        for (int s = 0; s < slots; s++) {
            track.putInt(4 * (2 * slots + s), -1);
        }
        track.putInt(12 * slots, sinks.count());
        int slot = 0;
        for (int position : sinks.owners()) {
            byte[][] row = position < from ? sinks.rows.get(position)
                    : new byte[][] {window(wk, position - from), window(wv, position - from)};
            if (row == null) {
                continue; // the writer kept no fp16 row for it: attention reads its packed row, as the CPU does
            }
            flags[position] = (byte) slot;
            track.putInt(4 * (2 * slots + slot), position);
            cache.device.writeBytes(cache.fixed(layer, CudaRotateKvCache.SINK_KEYS) + 2L * slot * kvDim, row[0]);
            cache.device.writeBytes(cache.fixed(layer, CudaRotateKvCache.SINK_VALUES) + 2L * slot * kvDim, row[1]);
            slot++;
        }
        writePositions(layer, CudaRotateKvCache.FLAGS, 1, flags);
        write(layer, CudaRotateKvCache.TRACKER, track.array());
    }

    /** A spill's sink tracker (magnitudes ascending) and the fp16 rows of its packed sink tokens. */
    private record Sinks(float[] magnitudes, int[] positions, Map<Integer, byte[][]> rows) {
        static Sinks read(DataInput in, int layer, int tokens, int windowStart, int most, int kvDim) throws IOException {
            int n = in.readInt();
            if (n < 0 || n > most) {
                throw new IOException("corrupt sink state: " + n + " activations, at most " + most + " kept");
            }
            float[] magnitudes = new float[n];
            int[] positions = new int[n];
            for (int i = 0; i < n; i++) {
                magnitudes[i] = in.readFloat();
                positions[i] = in.readInt();
                if (positions[i] < 0 || positions[i] >= tokens || !(magnitudes[i] >= 0)) {
                    throw new IOException("corrupt sink state: activation " + magnitudes[i] + " at position " + positions[i]);
                }
                if (i > 0 && magnitudes[i] < magnitudes[i - 1]) {
                    throw new IOException("corrupt sink state: activations not in ascending order");
                }
            }
            int rows = in.readInt();
            if (rows < 0 || rows > most) {
                throw corrupt(layer, rows + " sink rows");
            }
            Sinks sinks = new Sinks(magnitudes, positions, new TreeMap<>());
            for (int i = 0; i < rows; i++) {
                int position = in.readInt();
                byte[] k = new byte[2 * kvDim];
                byte[] v = new byte[2 * kvDim];
                SpillHalves.read(in, k, 0, kvDim);
                SpillHalves.read(in, v, 0, kvDim);
                if (position < 0 || position >= windowStart || !sinks.owners().contains(position)) {
                    throw corrupt(layer, "sink row for position " + position);
                }
                sinks.rows.put(position, new byte[][] {k, v});
            }
            return sinks;
        }

        int count() {
            return positions.length;
        }

        /** Each position owning an activation, once. */
        List<Integer> owners() {
            List<Integer> out = new ArrayList<>();
            for (int p : positions) {
                if (!out.contains(p)) {
                    out.add(p);
                }
            }
            return out;
        }
    }

    private static boolean fits(PackedBlock b, int group) {
        if (b.axis() != PackedBlock.Axis.TOKEN || b.groupSize() != group) {
            return false;
        }
        for (int r = 0; r < b.rows(); r++) {
            if (b.bits(r) != 2) {
                return false;
            }
        }
        return true;
    }

    /** Rows {@code [start, start + rows)} of one side's codes (from {@code codes[at]}, the CPU's layout) as a block. */
    private PackedBlock packed(byte[] codes, int at, ByteBuffer scales, int start, int rows, int group, int groups) {
        short[] scale = new short[rows * groups];
        short[] min = new short[rows * groups];
        for (int i = 0; i < rows * groups; i++) {
            int word = scales.getInt(4 * (start * groups + i));
            scale[i] = (short) word;
            min[i] = (short) (word >>> 16);
        }
        int from = at + start * kvDim / 4;
        return PackedBlock.ofPacked(rows, kvDim, group, 2, Arrays.copyOfRange(codes, from, from + rows * kvDim / 4), scale, min);
    }

    private void unpack(PackedBlock b, byte[] codes, int at, ByteBuffer scales, int start, int groups) {
        b.copyPacked(codes, at + start * kvDim / 4);
        for (int i = 0; i < b.rows() * groups; i++) {
            scales.putInt(4 * (start * groups + i), (b.scaleBits(i) & 0xffff) | (b.minBits(i) & 0xffff) << 16);
        }
    }

    private byte[] window(byte[] rows, int t) {
        return Arrays.copyOfRange(rows, 2 * t * kvDim, 2 * (t + 1) * kvDim);
    }

    /** One of {@code layer}'s per-sequence sections. */
    private byte[] read(int layer, int section, int bytes) {
        return cache.device.readBytes(cache.fixed(layer, section), bytes);
    }

    private void write(int layer, int section, byte[] data) {
        cache.device.writeBytes(cache.fixed(layer, section), data);
    }

    /** {@code width} bytes a position of one of {@code layer}'s per-position sections, positions [0, count), page by page. */
    private byte[] readPositions(int layer, int section, int width, int count) {
        byte[] out = new byte[width * count];
        for (int from = 0; from < count; from += CudaCache.PAGE) {
            int n = Math.min(CudaCache.PAGE, count - from);
            System.arraycopy(cache.device.readBytes(cache.paged(from, layer, section), width * n), 0, out, width * from, width * n);
        }
        return out;
    }

    private void writePositions(int layer, int section, int width, byte[] data) {
        for (int from = 0; from < data.length / width; from += CudaCache.PAGE) {
            int n = Math.min(CudaCache.PAGE, data.length / width - from);
            cache.device.writeBytes(cache.paged(from, layer, section), Arrays.copyOfRange(data, width * from, width * (from + n)));
        }
    }

    private static ByteBuffer le(byte[] bytes) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static IOException corrupt(int layer, String what) {
        return new IOException("corrupt layer " + layer + ": " + what);
    }
}
