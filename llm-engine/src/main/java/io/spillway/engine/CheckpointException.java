package io.spillway.engine;

import java.nio.file.Path;

/**
 * A model directory that cannot be used: missing or malformed files, unsupported architecture,
 * dtype or tensor layout. The message names the file and, where there is one, the field, so the
 * CLI can print it as one line instead of a stack trace.
 */
public class CheckpointException extends RuntimeException {
    @java.io.Serial
    private static final long serialVersionUID = 1L;


    public CheckpointException(Path file, String message) {
        super(file + ": " + message);
    }

    public CheckpointException(Path file, String field, String message) {
        super(file + ": field '" + field + "': " + message);
    }

    public CheckpointException(Path file, String message, Throwable cause) {
        super(file + ": " + message, cause);
    }
}
