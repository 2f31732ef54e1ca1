package io.spillway.gateway.jobs;

import java.time.Duration;

/**
 * The job flow's clocks.
 *
 * @param retention    how long ended jobs stay in the store after their last change; zero keeps them forever
 * @param chunkTimeout how long a chunk a worker took may go without a word from it before it is asked again (or, its
 *                     attempts spent, its job fails); zero waits forever
 */
public record JobTimeouts(Duration retention, Duration chunkTimeout) {
  /** Whole-store sweeps at most this far apart: a job outlives its retention by a tenth at most, a stall its timeout by a quarter. */
  private static final Duration MAX_SWEEP_INTERVAL = Duration.ofMinutes(10);

  public JobTimeouts {
    if (retention.isNegative()) {
      throw new IllegalArgumentException("spillway.jobs.retention must be 0 (keep ended jobs forever) or more, not " + retention);
    }
    if (chunkTimeout.isNegative()) {
      throw new IllegalArgumentException("spillway.jobs.chunk-timeout must be 0 (wait forever) or more, not " + chunkTimeout);
    }
  }

  /** How often the store is swept; null when neither clock is on. */
  Duration sweepInterval() {
    Duration every = null;
    if (retention.isPositive()) {
      every = retention.dividedBy(10);
    }
    if (chunkTimeout.isPositive() && (every == null || chunkTimeout.dividedBy(4).compareTo(every) < 0)) {
      every = chunkTimeout.dividedBy(4);
    }
    return every == null || every.compareTo(MAX_SWEEP_INTERVAL) <= 0 ? every : MAX_SWEEP_INTERVAL;
  }
}
