package io.spillway.spill;

import java.io.IOException;
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

    /** A step run under a session's lock. */
    interface Locked<T> {
        T run() throws IOException;
    }

    /** Runs {@code step} holding {@code sessionId}'s lock. */
    <T> T withLock(String sessionId, Locked<T> step) throws IOException {
        ReentrantLock lock = locks[Math.floorMod(sessionId.hashCode(), STRIPES)];
        lock.lock();
        try {
            return step.run();
        } finally {
            lock.unlock();
        }
    }
}
