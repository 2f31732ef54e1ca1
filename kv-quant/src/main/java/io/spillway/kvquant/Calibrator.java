package io.spillway.kvquant;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Outlier-aware channel reordering, calibrated offline: collects pre-RoPE key rows per layer,
 * rotates them as RotateKV does, and for each layer picks the {@link ChannelOrdering} whose gather
 * order gives the smallest 2-bit quantization error on a sample of those rows.
 */
public final class Calibrator {
    private static final int SAMPLE_ROWS = 2048;

    private final int kvDim;
    private final int rotationSize;
    private final int groupSize;
    private final ChannelRotation rotation;
    private final double[][] sum;
    private final double[][] absSum;
    private final double[][] maxAbs;
    private final List<List<float[]>> samples = new ArrayList<>();
    private final long[] seen;
    private final SplittableRandom random = new SplittableRandom(7);

    public Calibrator(int layers, int kvDim, int rotationSize, int groupSize) {
        this.kvDim = kvDim;
        this.rotationSize = rotationSize;
        this.groupSize = groupSize;
        this.rotation = new ChannelRotation(kvDim, rotationSize, null);
        this.sum = new double[layers][kvDim];
        this.absSum = new double[layers][kvDim];
        this.maxAbs = new double[layers][kvDim];
        this.seen = new long[layers];
        for (int l = 0; l < layers; l++) {
            samples.add(new ArrayList<>());
        }
    }

    /** Adds {@code tokens} pre-RoPE key rows of {@code kvDim} floats. */
    public synchronized void add(int layer, float[] keys, int off, int tokens) {
        for (int t = 0; t < tokens; t++) {
            float[] row = java.util.Arrays.copyOfRange(keys, off + t * kvDim, off + (t + 1) * kvDim);
            rotation.forward(row, 0);
            for (int c = 0; c < kvDim; c++) {
                sum[layer][c] += row[c];
                absSum[layer][c] += Math.abs(row[c]);
                maxAbs[layer][c] = Math.max(maxAbs[layer][c], Math.abs(row[c]));
            }
            // Reservoir sampling keeps an unbiased sample of every row seen.
            long n = ++seen[layer];
            List<float[]> s = samples.get(layer);
            if (s.size() < SAMPLE_ROWS) {
                s.add(row);
            } else {
                long j = random.nextLong(n);
                if (j < SAMPLE_ROWS) {
                    s.set((int) j, row);
                }
            }
        }
    }

    public Calibration finish(String modelFingerprint) {
        int layers = sum.length;
        List<ChannelOrdering> best = new ArrayList<>();
        int[][] orders = new int[layers][];
        for (int l = 0; l < layers; l++) {
            if (seen[l] == 0) {
                throw new IllegalStateException("no calibration keys were collected for layer " + l);
            }
            double bestError = Double.POSITIVE_INFINITY;
            for (ChannelOrdering o : ChannelOrdering.values()) {
                int[] order = o.order(sum[l], absSum[l], maxAbs[l]);
                double err = error(samples.get(l), order);
                if (err < bestError) {
                    bestError = err;
                    orders[l] = order;
                    if (best.size() > l) {
                        best.set(l, o);
                    } else {
                        best.add(o);
                    }
                }
            }
        }
        return new Calibration(modelFingerprint, rotationSize, groupSize, best, orders);
    }

    /** Mean squared 2-bit reconstruction error of the rotated rows gathered by {@code order}. */
    double error(List<float[]> rows, int[] order) {
        float[] gathered = new float[kvDim];
        float[] decoded = new float[kvDim];
        int[] bits = {2};
        double err = 0;
        for (float[] row : rows) {
            for (int i = 0; i < kvDim; i++) {
                gathered[i] = row[order[i]];
            }
            PackedBlock.perToken(gathered, 0, 1, kvDim, groupSize, bits).dequantizeRow(0, decoded, 0);
            for (int i = 0; i < kvDim; i++) {
                double d = decoded[i] - gathered[i];
                err += d * d;
            }
        }
        return err / rows.size();
    }
}
