package io.spillway.engine.kv;

import io.spillway.kvquant.Calibrator;

/** A dense cache that also hands every pre-RoPE key row it stores to a {@link Calibrator}. */
public final class CapturingKvCache implements KvCache {
    private final KvCache inner;
    private final Calibrator calibrator;

    public CapturingKvCache(KvCache inner, Calibrator calibrator) {
        this.inner = inner;
        this.calibrator = calibrator;
    }

    @Override
    public int length() {
        return inner.length();
    }

    @Override
    public void write(int layer, LayerRows rows, int first, int count) {
        calibrator.add(layer, rows.keys(), first * rows.kvWidth(), count);
        inner.write(layer, rows, first, count);
    }

    @Override
    public void prepare(int layer) {
        inner.prepare(layer);
    }

    @Override
    public void attend(int layer, int head, float[] query, int queryOff, int position, float[] out, int outOff) {
        inner.attend(layer, head, query, queryOff, position, out, outOff);
    }

    @Override
    public void commit(int count) {
        inner.commit(count);
    }

    @Override
    public void truncate(int length) {
        inner.truncate(length);
    }

    @Override
    public long bytes() {
        return inner.bytes();
    }

    @Override
    public void close() {
        inner.close();
    }
}
