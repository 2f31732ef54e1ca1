package io.spillway.spill;

import org.apache.kafka.streams.KafkaStreams;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code /actuator/health} component {@code sessionDirectory}: UP once the directory is rebuilt from its topic and
 * following it, OUT_OF_SERVICE while it loads, DOWN once it has stopped (its Kafka client failed).
 */
final class SessionDirectoryHealth implements HealthIndicator {
    private final SessionDirectory directory;
    private final String topic;

    SessionDirectoryHealth(SessionDirectory directory, String topic) {
        this.directory = directory;
        this.topic = topic;
    }

    @Override
    public Health health() {
        KafkaStreams.State state = directory.state();
        Health.Builder health = switch (state) {
            case RUNNING -> Health.up();
            case CREATED, REBALANCING -> Health.outOfService();
            default -> Health.down();
        };
        return health.withDetail("state", state.name()).withDetail("topic", topic).build();
    }
}
