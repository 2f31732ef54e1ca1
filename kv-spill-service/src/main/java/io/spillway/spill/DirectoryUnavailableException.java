package io.spillway.spill;

/** The session directory is off, starting, rebuilding from its topic, or failed: ask again later (503). */
public class DirectoryUnavailableException extends RuntimeException {
    public DirectoryUnavailableException(String message) {
        super(message);
    }
}
