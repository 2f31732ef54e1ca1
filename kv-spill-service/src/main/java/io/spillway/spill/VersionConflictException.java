package io.spillway.spill;

/** A conditional put whose expected version is not the stored one: a stale writer must not overwrite a newer spill. */
public class VersionConflictException extends RuntimeException {
    private final String sessionId;
    private final long expectedVersion;
    private final long currentVersion;

    public VersionConflictException(String sessionId, long expectedVersion, long currentVersion) {
        super("session " + sessionId + ": expected version " + expectedVersion + " but the stored version is " + currentVersion);
        this.sessionId = sessionId;
        this.expectedVersion = expectedVersion;
        this.currentVersion = currentVersion;
    }

    public String sessionId() {
        return sessionId;
    }

    public long expectedVersion() {
        return expectedVersion;
    }

    /** 0 when the session has no spill. */
    public long currentVersion() {
        return currentVersion;
    }
}
