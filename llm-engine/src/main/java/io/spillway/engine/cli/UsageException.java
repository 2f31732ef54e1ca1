package io.spillway.engine.cli;

/** A command line the CLI cannot run: reported as one line with exit status 2. */
final class UsageException extends RuntimeException {
    @java.io.Serial
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
