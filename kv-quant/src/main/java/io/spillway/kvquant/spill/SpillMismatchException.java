package io.spillway.kvquant.spill;

/**
 * An intact spill blob made for something other than this worker: another model, KV method,
 * calibration or cache shape. Decoding it would give plausible-looking but wrong attention, so it is refused.
 * {@link #field()}, {@link #spilled()} and {@link #expected()} describe the first difference; the
 * message lists them all.
 */
public class SpillMismatchException extends SpillFormatException {
    private static final long serialVersionUID = 1L;

    private final String field;
    private final String spilled;
    private final String expected;

    public SpillMismatchException(String field, String spilled, String expected, String message) {
        super(message);
        this.field = field;
        this.spilled = spilled;
        this.expected = expected;
    }

    /** The manifest field that differs, e.g. {@code modelFingerprint}. */
    public String field() {
        return field;
    }

    /** Its value in the blob. */
    public String spilled() {
        return spilled;
    }

    /** The value this worker expected. */
    public String expected() {
        return expected;
    }
}
