package io.spillway.worker;

import io.spillway.engine.generate.Session;
import io.spillway.engine.kv.KvCache;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The hot sessions of this worker, least recently used first out once there are more than
 * {@code maxSessions}. A session being generated is never dropped.
 */
final class SessionRegistry implements AutoCloseable {
    private final int maxSessions;
    private final Supplier<KvCache> caches;
    private final LinkedHashMap<String, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);

    SessionRegistry(int maxSessions, Supplier<KvCache> caches) {
        this.maxSessions = maxSessions;
        this.caches = caches;
    }

    /** The session, made if new; null when it is busy with another request (that one runs on a fresh cache). */
    synchronized Session acquire(String id) {
        Session s = sessions.computeIfAbsent(id, k -> new Session(k, caches));
        evict();
        return s.busy() ? null : s;
    }

    private void evict() {
        var it = sessions.entrySet().iterator();
        while (sessions.size() > maxSessions && it.hasNext()) {
            Map.Entry<String, Session> oldest = it.next();
            if (!oldest.getValue().busy()) {
                oldest.getValue().close();
                it.remove();
            }
        }
    }

    synchronized int size() {
        return sessions.size();
    }

    @Override
    public synchronized void close() {
        sessions.values().forEach(Session::close);
        sessions.clear();
    }
}
