package io.spillway.spill;

/** A session id outside 1–200 characters of {@code [A-Za-z0-9._:-]}. */
public class InvalidSessionIdException extends IllegalArgumentException {
    public InvalidSessionIdException(String sessionId) {
        super("invalid session id (1-200 characters of [A-Za-z0-9._:-]): " + abbreviate(sessionId));
    }

    private static String abbreviate(String sessionId) {
        return sessionId == null ? "null" : sessionId.length() > 40 ? sessionId.substring(0, 40) + "..." : sessionId;
    }
}
