package io.spillway.kvquant.spill;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * What the restoring worker runs: a spilled cache is decoded only when its manifest agrees on every
 * field here, since a cache from another model, method or calibration decodes to numbers that look
 * fine and are wrong.
 *
 * @param calibrationId {@code ""} when the worker uses no calibration
 */
public record SpillExpectation(String modelFingerprint, String method, String calibrationId, int layers, int kvDim,
                               int blockTokens) {

    public SpillExpectation {
        Objects.requireNonNull(modelFingerprint, "modelFingerprint");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(calibrationId, "calibrationId (use \"\" for none)");
        if (layers < 0 || kvDim < 0 || blockTokens < 0) {
            throw new IllegalArgumentException("layers, kvDim and blockTokens must not be negative");
        }
    }

    /** Throws naming every field that differs; the exception's accessors hold the first. */
    void check(SpillManifest m) throws SpillMismatchException {
        List<String[]> diffs = new ArrayList<>(); // field, spilled, expected, sentence
        if (!m.modelFingerprint().equals(modelFingerprint)) {
            diffs.add(new String[] {"modelFingerprint", m.modelFingerprint(), modelFingerprint,
                    "spilled cache was made for model " + m.modelFingerprint() + ", this worker runs " + modelFingerprint});
        }
        if (!m.method().equals(method)) {
            diffs.add(new String[] {"method", m.method(), method,
                    "spilled cache was made with KV method " + m.method() + ", this worker uses " + method});
        }
        if (!m.calibrationId().equals(calibrationId)) {
            diffs.add(new String[] {"calibrationId", m.calibrationId(), calibrationId,
                    "spilled cache was made with calibration " + orNone(m.calibrationId()) + ", this worker uses "
                            + orNone(calibrationId)});
        }
        if (m.layers() != layers) {
            diffs.add(new String[] {"layers", Integer.toString(m.layers()), Integer.toString(layers),
                    "spilled cache has " + m.layers() + " layers, this worker's model has " + layers});
        }
        if (m.kvDim() != kvDim) {
            diffs.add(new String[] {"kvDim", Integer.toString(m.kvDim()), Integer.toString(kvDim),
                    "spilled cache has kvDim " + m.kvDim() + ", this worker's model has kvDim " + kvDim});
        }
        if (m.blockTokens() != blockTokens) {
            diffs.add(new String[] {"blockTokens", Integer.toString(m.blockTokens()), Integer.toString(blockTokens),
                    "spilled cache has blockTokens " + m.blockTokens() + ", this worker uses blockTokens " + blockTokens});
        }
        if (!diffs.isEmpty()) {
            String[] first = diffs.getFirst();
            String message = String.join("; ", diffs.stream().map(d -> d[3]).toList());
            throw new SpillMismatchException(first[0], first[1], first[2], message);
        }
    }

    private static String orNone(String calibrationId) {
        return calibrationId.isEmpty() ? "none" : calibrationId;
    }
}
