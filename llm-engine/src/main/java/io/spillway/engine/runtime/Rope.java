package io.spillway.engine.runtime;

import io.spillway.engine.model.RopeConfig;

/**
 * Rotary position embedding in transformers' "rotate_half" convention: dimension {@code i} pairs with
 * {@code i + d/2}. Frequencies and angles are computed in fp32 as transformers does, so positions far
 * from zero round the same way.
 */
public final class Rope {
    private static final int TABLE_POSITIONS = 16384;

    private final int headDim;
    private final float[] invFreq;
    private final int tablePositions;
    private final float[] cos;
    private final float[] sin;

    public Rope(RopeConfig config, int headDim, int maxPositions) {
        this.headDim = headDim;
        this.invFreq = inverseFrequencies(config, headDim);
        int half = headDim / 2;
        this.tablePositions = Math.min(maxPositions, TABLE_POSITIONS);
        this.cos = new float[tablePositions * half];
        this.sin = new float[tablePositions * half];
        for (int p = 0; p < tablePositions; p++) {
            for (int i = 0; i < half; i++) {
                float angle = (float) p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
    }

    public static float[] inverseFrequencies(RopeConfig c, int headDim) {
        int half = headDim / 2;
        float[] inv = new float[half];
        for (int i = 0; i < half; i++) {
            float exponent = (float) (2 * i) / headDim;
            inv[i] = 1.0f / (float) Math.pow(c.theta(), exponent);
        }
        switch (c.type()) {
            case "linear" -> {
                for (int i = 0; i < half; i++) {
                    inv[i] = (float) (inv[i] / c.factor());
                }
            }
            case "llama3" -> llama3(c, inv);
            default -> {
            }
        }
        return inv;
    }

    /** Llama-3.1's frequency-dependent scaling: long wavelengths slowed by the factor, short ones kept, a smooth ramp between. */
    private static void llama3(RopeConfig c, float[] inv) {
        double lowWavelen = c.originalMaxPositions() / c.lowFreqFactor();
        double highWavelen = c.originalMaxPositions() / c.highFreqFactor();
        for (int i = 0; i < inv.length; i++) {
            double wavelen = 2 * Math.PI / inv[i];
            if (wavelen > lowWavelen) {
                inv[i] = (float) (inv[i] / c.factor());
            } else if (wavelen >= highWavelen) {
                double smooth = (c.originalMaxPositions() / wavelen - c.lowFreqFactor())
                        / (c.highFreqFactor() - c.lowFreqFactor());
                inv[i] = (float) ((1 - smooth) * inv[i] / c.factor() + smooth * inv[i]);
            }
        }
    }

    public int headDim() {
        return headDim;
    }

    /** Rotates {@code heads} consecutive heads of {@code x} starting at {@code off}, in place, for {@code position}. */
    public void rotate(float[] x, int off, int heads, int position) {
        int half = headDim / 2;
        float[] c;
        float[] s;
        int base;
        if (position < tablePositions) {
            c = cos;
            s = sin;
            base = position * half;
        } else {
            c = new float[half];
            s = new float[half];
            base = 0;
            for (int i = 0; i < half; i++) {
                float angle = (float) position * invFreq[i];
                c[i] = (float) Math.cos(angle);
                s[i] = (float) Math.sin(angle);
            }
        }
        for (int h = 0; h < heads; h++) {
            int o = off + h * headDim;
            for (int i = 0; i < half; i++) {
                float x1 = x[o + i];
                float x2 = x[o + i + half];
                float ci = c[base + i];
                float si = s[base + i];
                x[o + i] = x1 * ci - x2 * si;
                x[o + i + half] = x2 * ci + x1 * si;
            }
        }
    }
}
