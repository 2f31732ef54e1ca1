package io.spillway.worker;

import io.spillway.engine.generate.Session;
import io.spillway.engine.kv.KvCache;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Supplier;

/**
 * The hot sessions of this worker. Beyond {@code maxSessions} or the KV byte budget, the least
 * recently used idle sessions spill to the store (or are dropped when spilling is off); they spill
 * too when their partition moves to another worker and when the worker stops. A session not hot here
 * is resumed from its spill. Used from the consumer thread only: it alone claims sessions, so an idle
 * session cannot become busy while it is measured or spilled.
 */
final class SessionRegistry implements AutoCloseable {

    private static final class Hot {
        final Session session;
        final String apiKeyId;
        final long version;
        int partition;
        long bytes;

        Hot(Session session, String apiKeyId, long version) {
            this.session = session;
            this.apiKeyId = apiKeyId;
            this.version = version;
        }
    }

    private final int maxSessions;
    private final long budgetBytes;
    private final Supplier<KvCache> caches;
    private final SessionSpills spills;
    private final LinkedHashMap<String, Hot> sessions = new LinkedHashMap<>(16, 0.75f, true);
    private volatile long hotBytes;

    /** @param spills null: no spill store, sessions over the limits are dropped */
    SessionRegistry(int maxSessions, long budgetBytes, Supplier<KvCache> caches, SessionSpills spills) {
        this.maxSessions = maxSessions;
        this.budgetBytes = budgetBytes;
        this.caches = caches;
        this.spills = spills;
    }

    /** The session, resumed or made if not hot; null when it is busy with another request (that one runs on a fresh cache). */
    synchronized Session acquire(String id, String apiKeyId, int partition) {
        Hot h = sessions.get(id);
        if (h == null) {
            if (spills == null) {
                h = new Hot(new Session(id, caches), apiKeyId, 0);
            } else {
                SessionSpills.Resumed r = spills.resume(id, apiKeyId);
                h = new Hot(r.session(), apiKeyId, r.version());
            }
            sessions.put(id, h);
            evictOver(id);
        }
        h.partition = partition;
        return h.session.busy() ? null : h.session;
    }

    /** Spills least recently used idle sessions while over the session count or the byte budget. */
    synchronized void enforceLimits() {
        evictOver(null);
    }

    /** {@code keep}: the session being handed out, which must stay even when it alone is over the budget. */
    private void evictOver(String keep) {
        long total = 0;
        for (Hot h : sessions.values()) {
            if (!h.session.busy()) {
                h.bytes = h.session.bytes();
            }
            total += h.bytes;
        }
        var it = sessions.values().iterator();
        while ((sessions.size() > maxSessions || total > budgetBytes) && it.hasNext()) {
            Hot oldest = it.next();
            if (!oldest.session.busy() && !oldest.session.id().equals(keep)) {
                total -= oldest.bytes;
                evict(oldest);
                it.remove();
            }
        }
        hotBytes = total;
    }

    /** The partitions moved away: their idle sessions spill for the next owner, busy ones (handed back) are let go. */
    synchronized void release(Collection<Integer> partitions) {
        List<Hot> leaving = new ArrayList<>();
        sessions.values().removeIf(h -> partitions.contains(h.partition) && leaving.add(h));
        leaving.stream().filter(h -> !h.session.busy()).forEach(this::evict);
    }

    /** On shutdown: every idle session spills. */
    synchronized void spillAll() {
        sessions.values().stream().filter(h -> !h.session.busy()).forEach(this::evict);
        sessions.clear();
        hotBytes = 0;
    }

    private void evict(Hot h) {
        if (spills != null) {
            spills.spill(h.session, h.apiKeyId, h.version);
        }
        h.session.close();
    }

    synchronized int size() {
        return sessions.size();
    }

    /** KV bytes of the hot sessions as last measured. */
    long hotBytes() {
        return hotBytes;
    }

    @Override
    public synchronized void close() {
        sessions.values().forEach(h -> h.session.close());
        sessions.clear();
    }
}
