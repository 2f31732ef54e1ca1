package io.spillway.kvquant.spill;

/**
 * A spill blob whose bytes are damaged or cut short: a checksum that does not match, a length out of
 * bounds, a missing trailer. The message says where (which section, which frame, which byte).
 */
public class SpillCorruptException extends SpillFormatException {
    private static final long serialVersionUID = 1L;

    public SpillCorruptException(String message) {
        super(message);
    }

    public SpillCorruptException(String message, Throwable cause) {
        super(message, cause);
    }
}
