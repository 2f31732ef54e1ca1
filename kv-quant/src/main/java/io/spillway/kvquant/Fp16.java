package io.spillway.kvquant;

/** IEEE half precision as stored for scales, minimums and unquantized rows. */
final class Fp16 {
    static final float MAX = 65504f;

    private Fp16() {
    }

    /** Rounds to the nearest half, saturating instead of overflowing to infinity. */
    static short of(float v) {
        return Float.floatToFloat16(Math.max(-MAX, Math.min(MAX, v)));
    }

    static float value(short h) {
        return Float.float16ToFloat(h);
    }

    static float round(float v) {
        return value(of(v));
    }
}
