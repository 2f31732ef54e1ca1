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
class QuantizedKvSpillTest {
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

    private static byte[] spill(QuantizedKvCache c, String fingerprint) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        QuantizedKvSpill.write(c, fingerprint, out);
        return out.toByteArray();
    }

    @Test
    void restoredCacheIsIdenticalAndKeepsGrowingIdentically() throws IOException {
        for (String method : new String[] {"rotatekv2:reorder=off", "akvq2:reorder=off", "kivi2", "int4"}) {
            LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 400, 7);
            QuantizedKvCache original = cache(method);
            append(original, rows, 0, 300);
            byte[] blob = spill(original, "model-a");
            QuantizedKvCache restored = QuantizedKvSpill.read(cache(method), "model-a", new ByteArrayInputStream(blob));
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
        assertThatThrownBy(() -> QuantizedKvSpill.read(cache("int2"), "model-b", new ByteArrayInputStream(blob)))
                .isInstanceOf(SpillMismatchException.class).hasMessageContaining("model-a").hasMessageContaining("model-b");
        assertThatThrownBy(() -> QuantizedKvSpill.read(cache("int4"), "model-a", new ByteArrayInputStream(blob)))
                .isInstanceOf(SpillMismatchException.class).hasMessageContaining("int2").hasMessageContaining("int4");
    }

    @Test
    void truncatedOrCorruptBlobsAreDetected() throws IOException {
        LayerRows rows = QuantizedKvCacheTest.rows(LAYOUT, 200, 10);
        QuantizedKvCache c = cache("int2");
        append(c, rows, 0, 200);
        byte[] blob = spill(c, "m");
        assertThatThrownBy(() -> QuantizedKvSpill.read(cache("int2"), "m", new ByteArrayInputStream(Arrays.copyOf(blob, blob.length / 2))))
                .isInstanceOf(SpillFormatException.class);
        byte[] flipped = blob.clone();
        flipped[blob.length / 2] ^= 0x10;
        assertThatThrownBy(() -> QuantizedKvSpill.read(cache("int2"), "m", new ByteArrayInputStream(flipped)))
                .isInstanceOf(SpillFormatException.class);
    }
}
