package io.spillway.gateway.kafka;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/** {@code /actuator/health} component {@code replies}: UP once the reply partitions are being read. */
@Component
public final class RepliesHealthIndicator implements HealthIndicator {

  private final ReplyListener listener;

  public RepliesHealthIndicator(ReplyListener listener) {
    this.listener = listener;
  }

  @Override
  public Health health() {
    Health.Builder health = listener.ready() ? Health.up() : Health.down();
    return health.withDetail("topic", listener.topic()).withDetail("partitions", listener.ownedPartitions()).build();
  }
}
