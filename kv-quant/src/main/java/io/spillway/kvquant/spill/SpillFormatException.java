package io.spillway.kvquant.spill;

import java.io.IOException;

/**
 * A spill blob that this worker cannot or must not decode: not a spill blob at all, a container
 * version it does not read, a cache made for another model or method ({@link SpillMismatchException}),
 * or damaged and truncated bytes ({@link SpillCorruptException}).
 */
public class SpillFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SpillFormatException(String message) {
        super(message);
    }

    public SpillFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
