package io.spillway.engine.kv;

import io.spillway.kvquant.spill.SpillExpectation;
import io.spillway.kvquant.spill.SpillFormatException;
import io.spillway.kvquant.spill.SpillManifest;
import io.spillway.kvquant.spill.SpillReader;
import io.spillway.kvquant.spill.SpillWriter;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Map;

/**
 * Spills a {@link QuantizedKvCache} to a blob and restores it, packed blocks copied as they are (no
 * dequantize, no recompute): one section per layer, inside the versioned, checksummed container of
 * {@code io.spillway.kvquant.spill}. A blob of another model, method, calibration or layout is refused.
 */
public final class QuantizedKvSpill {
    /** Version of what the sections hold; the container has its own. */
    static final String LAYOUT = "1";

    private QuantizedKvSpill() {
    }

    public static void write(QuantizedKvCache cache, String modelFingerprint, OutputStream out) throws IOException {
        SpillManifest m = new SpillManifest(modelFingerprint, cache.method().name(), cache.method().keys().bits(),
                cache.method().values().bits(), cache.keyGroup(), cache.calibrationId(), cache.layout().layers(),
                cache.layout().kvDim(), cache.method().blockTokens(), cache.length(), Map.of("layout", LAYOUT));
        try (SpillWriter writer = new SpillWriter(out, m)) {
            for (int l = 0; l < cache.layout().layers(); l++) {
                try (DataOutputStream section = new DataOutputStream(writer.section("layer." + l))) {
                    cache.writeLayer(l, section);
                }
            }
            writer.finish();
        }
    }

    /** Restores into {@code empty}, a new cache made for this model and method; returns it. */
    public static QuantizedKvCache read(QuantizedKvCache empty, String modelFingerprint, InputStream in) throws IOException {
        if (empty.length() != 0) {
            throw new IllegalArgumentException("restore needs an empty cache");
        }
        SpillExpectation expected = new SpillExpectation(modelFingerprint, empty.method().name(), empty.calibrationId(),
                empty.layout().layers(), empty.layout().kvDim(), empty.method().blockTokens());
        try (SpillReader reader = SpillReader.open(in, expected)) {
            SpillManifest m = reader.manifest();
            if (!LAYOUT.equals(m.extra().get("layout"))) {
                throw new SpillFormatException("spilled cache has section layout " + m.extra().get("layout")
                        + ", this worker reads layout " + LAYOUT);
            }
            for (int l = 0; l < empty.layout().layers(); l++) {
                var section = reader.next().orElseThrow(() -> new SpillFormatException("spilled cache ends before its layers"));
                if (!section.name().equals("layer." + l)) {
                    throw new SpillFormatException("expected section 'layer." + l + "', found '" + section.name() + "'");
                }
                empty.readLayer(l, new DataInputStream(section.stream()), m.tokenCount());
            }
            if (reader.next().isPresent()) {
                throw new SpillFormatException("spilled cache has more sections than the model has layers");
            }
            empty.restored(m.tokenCount());
            return empty;
        } catch (IOException | RuntimeException e) {
            empty.close();
            throw e;
        }
    }
}
