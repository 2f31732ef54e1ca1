package io.spillway.spill;

/** No spill is stored for the session. */
class SpillNotFoundException extends RuntimeException {
    SpillNotFoundException(String sessionId) {
        super("no spill for session " + sessionId);
    }
}
