package io.spillway.gateway;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.Supplier;
import org.springframework.stereotype.Component;

/**
 * The gateway's own meters, next to Spring's {@code http.server.requests}: requests by endpoint,
 * errors by code, time to first token, requests in flight, events dropped, cancellations.
 */
@Component
public final class GatewayMetrics {

  private final MeterRegistry registry;

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** A request that passed authentication reached {@code endpoint}. */
  public void request(String endpoint, boolean stream) {
    registry.counter("spillway.gateway.requests", "endpoint", endpoint, "stream", Boolean.toString(stream)).increment();
  }

  /** A request ended with an error response (or an error chunk in a stream). */
  public void error(int status, String code) {
    registry.counter("spillway.gateway.errors", "status", Integer.toString(status), "code", code == null ? "none" : code)
        .increment();
  }

  /** From accepting the request to the first generated text. */
  public void timeToFirstToken(String endpoint, Duration elapsed) {
    Timer.builder("spillway.gateway.time.to.first.token")
        .tag("endpoint", endpoint)
        .publishPercentileHistogram()
        .register(registry)
        .record(elapsed);
  }

  /** Requests waiting on a worker's events, read from {@code inFlight} at each scrape. */
  public void inFlight(Supplier<Number> inFlight) {
    Gauge.builder("spillway.gateway.requests.in.flight", inFlight).register(registry);
  }

  /** An event on a reply partition passed over: {@code duplicate}, {@code unknown_request} or {@code undecodable}. */
  public void eventDropped(String reason) {
    registry.counter("spillway.gateway.events.dropped", "reason", reason).increment();
  }

  /** A cancel record sent, because the client went away ({@code disconnect}) or waited too long ({@code timeout}). */
  public void cancelled(String reason) {
    registry.counter("spillway.gateway.cancellations", "reason", reason).increment();
  }
}
