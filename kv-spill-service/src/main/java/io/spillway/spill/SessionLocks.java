package io.spillway.spill;

import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per session id, striped rather than one per session so the table stays bounded however many
 * sessions pass. A store holds a session's lock only around the short check-and-commit steps, never while a
 * blob streams.
 */
final class SessionLocks {
    private static final int STRIPES = 64;

    private final ReentrantLock[] locks = new ReentrantLock[STRIPES];

    SessionLocks() {
        for (int i = 0; i < STRIPES; i++) {
            locks[i] = new ReentrantLock();
        }
    }

    ReentrantLock of(String sessionId) {
        return locks[Math.floorMod(sessionId.hashCode(), STRIPES)];
    }
}
