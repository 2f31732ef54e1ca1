package io.spillway.worker;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Which offsets are safe to commit: per partition, everything below the oldest record still being
 * worked on. A crash then re-delivers every unfinished request and nothing finished twice... except
 * requests that finished after an older one that had not: those are re-delivered too, and the
 * gateway drops their duplicate events.
 */
final class OffsetTracker {
    private final Map<TopicPartition, TreeSet<Long>> inFlight = new HashMap<>();
    private final Map<TopicPartition, Long> next = new HashMap<>();
    private final Map<TopicPartition, Long> committed = new HashMap<>();

    /** A record taken on; it stays uncommitted until {@link #done}. */
    synchronized void started(TopicPartition tp, long offset) {
        inFlight.computeIfAbsent(tp, k -> new TreeSet<>()).add(offset);
        next.merge(tp, offset + 1, Math::max);
    }

    /** A record fully handled at once (dead-lettered, a cancel). */
    synchronized void skipped(TopicPartition tp, long offset) {
        next.merge(tp, offset + 1, Math::max);
    }

    synchronized void done(TopicPartition tp, long offset) {
        TreeSet<Long> s = inFlight.get(tp);
        if (s != null) {
            s.remove(offset);
        }
    }

    /** The offsets to commit now: for each partition that moved, the oldest unfinished offset, or the next one. */
    synchronized Map<TopicPartition, OffsetAndMetadata> commitable() {
        Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
        for (var e : next.entrySet()) {
            TreeSet<Long> s = inFlight.get(e.getKey());
            long safe = s == null || s.isEmpty() ? e.getValue() : s.first();
            if (!Long.valueOf(safe).equals(committed.get(e.getKey()))) {
                out.put(e.getKey(), new OffsetAndMetadata(safe));
            }
        }
        return out;
    }

    synchronized void committed(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.forEach((tp, o) -> committed.put(tp, o.offset()));
    }

    synchronized int inFlight() {
        return inFlight.values().stream().mapToInt(TreeSet::size).sum();
    }

    /** Forgets partitions this worker no longer owns. */
    synchronized void forget(Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> {
            inFlight.remove(tp);
            next.remove(tp);
            committed.remove(tp);
        });
    }
}
