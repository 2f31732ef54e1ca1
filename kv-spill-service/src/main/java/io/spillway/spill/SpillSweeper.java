package io.spillway.spill;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.scheduling.annotation.SchedulingConfigurer;
import org.springframework.scheduling.config.ScheduledTaskRegistrar;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.time.Instant;
import java.util.List;

/** Deletes spills older than the TTL every {@code spillway.spill.sweep-interval}: sessions nobody resumed. */
@Component
class SpillSweeper implements SchedulingConfigurer {
    private static final Logger log = LoggerFactory.getLogger(SpillSweeper.class);

    private final SpillStore store;
    private final SpillProperties properties;
    private final ObjectProvider<SessionDirectory> directory;

    SpillSweeper(SpillStore store, SpillProperties properties, ObjectProvider<SessionDirectory> directory) {
        this.store = store;
        this.properties = properties;
        this.directory = directory;
    }

    @Override
    public void configureTasks(ScheduledTaskRegistrar registrar) {
        registrar.addFixedDelayTask(this::sweep, properties.sweepInterval());
    }

    void sweep() {
        try {
            List<String> expired = store.expire(Instant.now());
            if (!expired.isEmpty()) {
                log.info("expired {} spills older than {}", expired.size(), properties.ttl());
                directory.ifAvailable(d -> expired.forEach(d::spillDeleted));
            }
        } catch (IOException | RuntimeException e) {
            // A failed sweep is retried at the next interval; it must not stop the schedule.
            log.warn("spill sweep failed", e);
        }
    }
}
