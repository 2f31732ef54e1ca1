package io.spillway.gateway.kafka;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.api.Usage;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request sent to the workers and the events coming back for it, under the gateway's timeouts.
 * Used by one thread, the one serving the HTTP request; {@link #close()} stops listening and logs
 * one line about the request (ids, outcome, token counts, timings: never prompt or completion text).
 */
public final class InferenceCall implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(InferenceCall.class);

  private final InferenceRequest request;
  private final String endpoint;
  private final Reply reply;
  private final InferenceCalls calls;
  private final long startNanos = System.nanoTime();
  private final long deadlineNanos;
  // The first output (after queueing and prefill) is due by first-token-timeout; each next one within event-timeout.
  private final long firstOutputDeadlineNanos;

  private boolean sawOutput;
  private long firstTokenNanos = -1;
  private int tokens;
  private String outcome = "incomplete";
  private InferenceEvent finished;
  // FINISHED, ERROR or cancelled: nothing left to cancel.
  private boolean over;

  InferenceCall(InferenceRequest request, String endpoint, Reply reply, InferenceCalls calls) {
    this.request = request;
    this.endpoint = endpoint;
    this.reply = reply;
    this.calls = calls;
    this.deadlineNanos = startNanos + calls.requestTimeout().toNanos();
    this.firstOutputDeadlineNanos = startNanos + calls.firstTokenTimeout().toNanos();
  }

  public InferenceRequest request() {
    return request;
  }

  /**
   * The next DELTA, FINISHED or ERROR event (STARTED is consumed here).
   *
   * @throws ApiException 504 when the worker stays silent past the first-token or event timeout,
   *     or the request runs past the request timeout; the generation is then cancelled
   */
  public InferenceEvent next() {
    while (true) {
      long now = System.nanoTime();
      long until = Math.min(deadlineNanos, sawOutput ? now + calls.eventTimeout().toNanos() : firstOutputDeadlineNanos);
      InferenceEvent event;
      try {
        event = until <= now ? null : reply.poll(Duration.ofNanos(until - now));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        cancel("interrupted");
        throw ApiException.kafkaUnavailable("The gateway is shutting down.");
      }
      if (event == null) {
        cancel("timeout");
        throw ApiException.timeout("The model did not answer in time.");
      }
      if (event.getType() == EventType.STARTED) {
        continue;
      }
      sawOutput = true;
      switch (event.getType()) {
        case DELTA -> {
          tokens += event.getTokenIds().size();
          if (firstTokenNanos < 0 && event.getDeltaText() != null && !event.getDeltaText().isEmpty()) {
            firstTokenNanos = System.nanoTime();
            calls.metrics().timeToFirstToken(endpoint, Duration.ofNanos(firstTokenNanos - startNanos));
          }
        }
        case FINISHED -> {
          finished = event;
          over = true;
          outcome = event.getFinishReason();
        }
        case ERROR -> {
          over = true;
          outcome = "error:" + event.getError().getCode();
        }
        default -> {}
      }
      return event;
    }
  }

  /** Prompt and completion tokens of a FINISHED request; counted from the deltas if the worker sent none. */
  public Usage usage() {
    if (finished != null && finished.getUsage() != null) {
      return Usage.of(finished.getUsage().getPromptTokens(), finished.getUsage().getCompletionTokens(),
          finished.getUsage().getCachedTokens());
    }
    return Usage.of(0, tokens, 0);
  }

  /** Tells the worker to stop generating: the client is gone ({@code reason}) or waited too long. */
  public void cancel(String reason) {
    if (!over) {
      over = true;
      outcome = "cancelled:" + reason;
      calls.publisher().cancel(request);
      calls.metrics().cancelled(reason);
    }
  }

  @Override
  public void close() {
    calls.dispatcher().close(reply);
    var line =
        log.atInfo()
            .addKeyValue("requestId", request.getRequestId())
            .addKeyValue("sessionId", request.getSessionId())
            .addKeyValue("apiKeyId", request.getApiKeyId())
            .addKeyValue("model", request.getModel())
            .addKeyValue("endpoint", endpoint)
            .addKeyValue("stream", request.getStream())
            .addKeyValue("outcome", outcome)
            .addKeyValue("durationMs", (System.nanoTime() - startNanos) / 1_000_000);
    if (firstTokenNanos >= 0) {
      line = line.addKeyValue("timeToFirstTokenMs", (firstTokenNanos - startNanos) / 1_000_000);
    }
    if (finished != null) {
      var usage = usage();
      line = line.addKeyValue("promptTokens", usage.promptTokens()).addKeyValue("completionTokens", usage.completionTokens());
    }
    line.log("inference request done");
  }
}
