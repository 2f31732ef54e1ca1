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
 * Spills a session's cache to a blob and restores it, stored bits copied as they are (packed 2-bit
 * blocks stay packed: no dequantize, no recompute), inside the versioned, checksummed container of
 * {@code io.spillway.kvquant.spill}: a {@code tokens} section with the token ids the cache covers,
 * then one section per layer. A blob of another model, method, calibration or layout is refused.
 */
public final class KvSpill {
    /** Version of what the sections hold; the container has its own. */
    static final String LAYOUT = "2";
    private static final String TOKENS = "tokens";

    private KvSpill() {
    }

    public static boolean spillable(KvCache cache) {
        return cache instanceof SpillableKvCache;
    }

    /** Writes {@code cache}, which holds the keys and values of {@code tokens}. */
    public static void write(KvCache cache, int[] tokens, String modelFingerprint, OutputStream out) throws IOException {
        if (!(cache instanceof SpillableKvCache c)) {
            throw new IllegalArgumentException(cache.getClass().getSimpleName() + " cannot be spilled");
        }
        if (tokens.length != c.length()) {
            throw new IllegalArgumentException("the cache holds " + c.length() + " tokens, " + tokens.length + " token ids given");
        }
        SpillFormat f = c.spillFormat();
        SpillManifest m = new SpillManifest(modelFingerprint, f.method(), f.keyBits(), f.valueBits(), f.groupSize(),
                f.calibrationId(), f.layout().layers(), f.layout().kvDim(), f.blockTokens(), c.length(), Map.of("layout", LAYOUT));
        try (SpillWriter writer = new SpillWriter(out, m)) {
            try (DataOutputStream section = new DataOutputStream(writer.section(TOKENS))) {
                section.writeInt(tokens.length);
                for (int t : tokens) {
                    section.writeInt(t);
                }
            }
            for (int l = 0; l < f.layout().layers(); l++) {
                try (DataOutputStream section = new DataOutputStream(writer.section("layer." + l))) {
                    c.writeLayer(l, section);
                }
            }
            writer.finish();
        }
    }

    /**
     * Restores into {@code empty}, a new cache made for this model and method, and returns the token
     * ids it now covers. On any failure {@code empty} is closed and the exception says what was wrong.
     */
    public static int[] read(KvCache empty, String modelFingerprint, InputStream in) throws IOException {
        try {
            if (!(empty instanceof SpillableKvCache c)) {
                throw new IllegalArgumentException(empty.getClass().getSimpleName() + " cannot be restored from a spill");
            }
            if (c.length() != 0) {
                throw new IllegalArgumentException("restore needs an empty cache");
            }
            SpillFormat f = c.spillFormat();
            SpillExpectation expected = new SpillExpectation(modelFingerprint, f.method(), f.calibrationId(),
                    f.layout().layers(), f.layout().kvDim(), f.blockTokens());
            try (SpillReader reader = SpillReader.open(in, expected)) {
                SpillManifest m = reader.manifest();
                if (!LAYOUT.equals(m.extra().get("layout"))) {
                    throw new SpillFormatException("spilled cache has section layout " + m.extra().get("layout")
                            + ", this worker reads layout " + LAYOUT);
                }
                int[] tokens = readTokens(reader.next().orElse(null), m.tokenCount());
                for (int l = 0; l < f.layout().layers(); l++) {
                    var section = reader.next().orElseThrow(() -> new SpillFormatException("spilled cache ends before its layers"));
                    if (!section.name().equals("layer." + l)) {
                        throw new SpillFormatException("expected section 'layer." + l + "', found '" + section.name() + "'");
                    }
                    c.readLayer(l, new DataInputStream(section.stream()), m.tokenCount());
                }
                if (reader.next().isPresent()) {
                    throw new SpillFormatException("spilled cache has more sections than the model has layers");
                }
                c.restored(m.tokenCount());
                return tokens;
            }
        } catch (IOException | RuntimeException e) {
            empty.close();
            throw e;
        }
    }

    private static int[] readTokens(SpillReader.Section section, int tokenCount) throws IOException {
        if (section == null || !section.name().equals(TOKENS)) {
            throw new SpillFormatException("spilled cache does not start with its token ids");
        }
        DataInputStream in = new DataInputStream(section.stream());
        int n = in.readInt();
        if (n != tokenCount) {
            throw new SpillFormatException("spilled cache covers " + tokenCount + " tokens but lists " + n + " token ids");
        }
        int[] tokens = new int[n];
        for (int i = 0; i < n; i++) {
            tokens[i] = in.readInt();
        }
        return tokens;
    }
}
