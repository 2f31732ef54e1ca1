package io.spillway.worker;

import io.spillway.engine.generate.EngineLoop;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * {@code /actuator/health} component {@code worker}, part of the liveness group: DOWN once the request consumer's
 * loop has failed or the engine's thread has died. Either leaves the worker up but serving nothing, so the
 * orchestrator should restart it; its unfinished requests are uncommitted and go to another worker.
 */
final class WorkerLiveness implements HealthIndicator {
    private final RequestConsumer requests;
    private final EngineLoop engine;

    WorkerLiveness(RequestConsumer requests, EngineLoop engine) {
        this.requests = requests;
        this.engine = engine;
    }

    @Override
    public Health health() {
        String failure = requests.failure();
        boolean engineDied = engine.died();
        Health.Builder health = failure == null && !engineDied ? Health.up() : Health.down();
        if (failure != null) {
            health.withDetail("consumer", failure);
        }
        return health.withDetail("engine", engineDied ? "died" : "running").build();
    }
}
