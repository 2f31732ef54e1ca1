package io.spillway.engine.kv;

import io.spillway.engine.model.RopeConfig;
import io.spillway.engine.runtime.Rope;
import io.spillway.kvquant.KvMethod;
import io.spillway.kvquant.spill.SpillFormatException;
import io.spillway.kvquant.spill.SpillMismatchException;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** A spilled cache restores to one that attends and grows exactly like the original. */
class KvSpillTest {
    private static final KvLayout LAYOUT = new KvLayout(2, 4, 2, 128);
    private static final Rope ROPE = new Rope(RopeConfig.plain(10000), 128, 8192);

    private static QuantizedKvCache cache(String method) {
        return new QuantizedKvCache(LAYOUT, ROPE, KvMethod.parse(method), null, true);
    }

    private static void append(KvCache c, LayerRows rows, int first, int count) {
        for (int l = 0; l < LAYOUT.layers(); l++) {
            c.write(l, rows, first, count);
        }
        c.commit(count);
    }

    private static float[] attention(KvCache c, LayerRows rows) {
        float[] out = new float[LAYOUT.layers() * LAYOUT.heads() * 128];
        float[] q = Arrays.copyOf(rows.queries(), rows.queryWidth());
        for (int l = 0; l < LAYOUT.layers(); l++) {
            c.prepare(l);
            for (int h = 0; h < LAYOUT.heads(); h++) {
                c.attend(l, h, q, h * 128, c.length() - 1, out, (l * LAYOUT.heads() + h) * 128);
            }
        }
        return out;
    }

    private static byte[] spill(KvCache c, String fingerprint) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        KvSpill.write(c, tokens(c.length()), fingerprint, out);
        return out.toByteArray();
    }

    private static int[] tokens(int n) {
        int[] t = new int[n];
        Arrays.setAll(t, i -> (i * 31 + 7) % 8192);
        return t;
    }

    private static <C extends KvCache> C restore(C empty, String fingerprint, byte[] blob) throws IOException {
        int[] tokens = KvSpill.read(empty, fingerprint, new ByteArrayInputStream(blob));
        assertThat(tokens).containsExactly(tokens(empty.length()));
        return empty;
    }

    @Test
    void restoredCacheIsIdenticalAndKeepsGrowingIdentically() throws IOException {
        for (String method : new String[] {"rotatekv2:reorder=off", "akvq2:reorder=off", "kivi2", "int4"}) {
            LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 400, 7);
            QuantizedKvCache original = cache(method);
            append(original, rows, 0, 300);
            byte[] blob = spill(original, "model-a");
            QuantizedKvCache restored = restore(cache(method), "model-a", blob);
            assertThat(restored.length()).isEqualTo(300);
            assertThat(restored.bytes()).isEqualTo(original.bytes());
            // The stored state is bit-identical; attention agrees up to the JIT's summation order.
            assertThat(spill(restored, "model-a")).isEqualTo(blob);
            assertThat(attention(restored, rows)).as(method).containsExactly(attention(original, rows), within(1e-5f));
            append(original, rows, 300, 100);
            append(restored, rows, 300, 100);
            assertThat(spill(restored, "model-a")).isEqualTo(spill(original, "model-a"));
            assertThat(attention(restored, rows)).as(method).containsExactly(attention(original, rows), within(1e-5f));
        }
    }

    @Test
    void denseCachesRestoreExactly() throws IOException {
        for (DenseKvCache.Precision precision : DenseKvCache.Precision.values()) {
            LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 120, 11);
            DenseKvCache original = new DenseKvCache(LAYOUT, ROPE, precision, DenseKvCache.DEFAULT_BLOCK);
            append(original, rows, 0, 70);
            byte[] blob = spill(original, "model-a");
            DenseKvCache restored = restore(new DenseKvCache(LAYOUT, ROPE, precision, DenseKvCache.DEFAULT_BLOCK), "model-a", blob);
            assertThat(restored.length()).isEqualTo(70);
            assertThat(attention(restored, rows)).as(precision.name()).containsExactly(attention(original, rows));
            append(original, rows, 70, 50);
            append(restored, rows, 70, 50);
            assertThat(spill(restored, "model-a")).isEqualTo(spill(original, "model-a"));
        }
    }

    @Test
    void twoBitRotateKvStoresAtLeastFiveTimesFewerBytesThanFp16() throws IOException {
        LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 1024, 12);
        QuantizedKvCache packed = cache("rotatekv2:reorder=off");
        DenseKvCache fp16 = new DenseKvCache(LAYOUT, ROPE, DenseKvCache.Precision.F16, DenseKvCache.DEFAULT_BLOCK);
        append(packed, rows, 0, 1024);
        append(fp16, rows, 0, 1024);
        assertThat((long) spill(fp16, "m").length).isGreaterThan(5L * spill(packed, "m").length);
    }

    @Test
    void tokenIdsMustCoverTheCache() {
        QuantizedKvCache c = cache("int2");
        append(c, QuantizedKvCacheTest.rows(LAYOUT, 20, 13), 0, 20);
        assertThatThrownBy(() -> KvSpill.write(c, new int[19], "m", new ByteArrayOutputStream()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("20 tokens");
    }

    @Test
    void blobIsAboutTheSizeOfThePackedCache() throws IOException {
        LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 512, 8);
        QuantizedKvCache c = cache("rotatekv2:reorder=off");
        append(c, rows, 0, 512);
        assertThat((long) spill(c, "m").length).isBetween(c.bytes(), c.bytes() + c.bytes() / 20);
    }

    @Test
    void anotherModelOrMethodIsRefused() throws IOException {
        LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 200, 9);
        QuantizedKvCache c = cache("int2");
        append(c, rows, 0, 200);
        byte[] blob = spill(c, "model-a");
        assertThatThrownBy(() -> KvSpill.read(cache("int2"), "model-b", new ByteArrayInputStream(blob)))
                .isInstanceOf(SpillMismatchException.class).hasMessageContaining("model-a").hasMessageContaining("model-b");
        assertThatThrownBy(() -> KvSpill.read(cache("int4"), "model-a", new ByteArrayInputStream(blob)))
                .isInstanceOf(SpillMismatchException.class).hasMessageContaining("int2").hasMessageContaining("int4");
    }

    @Test
    void truncatedOrCorruptBlobsAreDetected() throws IOException {
        LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 200, 10);
        QuantizedKvCache c = cache("int2");
        append(c, rows, 0, 200);
        byte[] blob = spill(c, "m");
        assertThatThrownBy(() -> KvSpill.read(cache("int2"), "m", new ByteArrayInputStream(Arrays.copyOf(blob, blob.length / 2))))
                .isInstanceOf(SpillFormatException.class);
        byte[] flipped = blob.clone();
        flipped[blob.length / 2] ^= 0x10;
        assertThatThrownBy(() -> KvSpill.read(cache("int2"), "m", new ByteArrayInputStream(flipped)))
                .isInstanceOf(SpillFormatException.class);
    }
}
