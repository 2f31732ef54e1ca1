package io.spillway.gateway.kafka;

import io.spillway.gateway.GatewayMetrics;
import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.schemas.InferenceRequest;
import java.time.Duration;
import java.util.UUID;
import org.springframework.stereotype.Component;

/** Starts {@link InferenceCall}s: fills in the routing fields of a request, listens for its events, sends it. */
@Component
public final class InferenceCalls {

  private final ReplyListener listener;
  private final ReplyDispatcher dispatcher;
  private final RequestPublisher publisher;
  private final GatewayMetrics metrics;
  private final SpillwayProperties.Gateway gateway;

  public InferenceCalls(
      ReplyListener listener,
      ReplyDispatcher dispatcher,
      RequestPublisher publisher,
      GatewayMetrics metrics,
      SpillwayProperties properties) {
    this.listener = listener;
    this.dispatcher = dispatcher;
    this.publisher = publisher;
    this.metrics = metrics;
    this.gateway = properties.gateway();
  }

  /**
   * Sends the request {@code content} describes (session, model, input, sampling) with a fresh
   * request id and one of this instance's reply partitions.
   *
   * @throws ApiException 503 when the reply partitions are not read yet or Kafka cannot be reached
   */
  public InferenceCall start(InferenceRequest.Builder content, String endpoint) {
    if (!listener.ready()) {
      throw ApiException.kafkaUnavailable("The inference service is unavailable. Please retry later.");
    }
    InferenceRequest request =
        content
            .setRequestId(UUID.randomUUID().toString())
            .setAttempt(0)
            .setReplyTopic(listener.topic())
            .setReplyPartition(listener.nextReplyPartition())
            .setCreatedAtMs(System.currentTimeMillis())
            .build();
    Reply reply = dispatcher.open(request.getRequestId());
    try {
      publisher.publish(request);
    } catch (RuntimeException e) {
      dispatcher.close(reply);
      throw e;
    }
    return new InferenceCall(request, endpoint, reply, this);
  }

  Duration firstTokenTimeout() {
    return gateway.firstTokenTimeout();
  }

  Duration eventTimeout() {
    return gateway.eventTimeout();
  }

  Duration requestTimeout() {
    return gateway.requestTimeout();
  }

  ReplyDispatcher dispatcher() {
    return dispatcher;
  }

  RequestPublisher publisher() {
    return publisher;
  }

  GatewayMetrics metrics() {
    return metrics;
  }
}
