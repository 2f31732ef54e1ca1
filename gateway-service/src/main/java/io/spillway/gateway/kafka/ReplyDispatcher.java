package io.spillway.gateway.kafka;

import io.spillway.gateway.GatewayMetrics;
import io.spillway.schemas.InferenceEvent;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.stereotype.Component;

/** Routes each event read from the reply partitions to the {@link Reply} of its request id. */
@Component
public final class ReplyDispatcher {

  private final Map<String, Reply> replies = new ConcurrentHashMap<>();
  private final GatewayMetrics metrics;

  public ReplyDispatcher(GatewayMetrics metrics) {
    this.metrics = metrics;
    metrics.inFlight(replies::size);
  }

  /** Starts collecting events for {@code requestId}; call before the request is sent, so none is missed. */
  public Reply open(String requestId) {
    Reply reply = new Reply(requestId);
    if (replies.putIfAbsent(requestId, reply) != null) {
      throw new IllegalStateException("request id " + requestId + " is already waiting for events");
    }
    return reply;
  }

  /** Stops collecting for {@code reply}; later events of its request are dropped. */
  public void close(Reply reply) {
    replies.remove(reply.requestId(), reply);
  }

  /** Fails the request {@code requestId} (if it is waiting here): one of its events was unreadable. */
  void fail(String requestId) {
    Reply reply = replies.get(requestId);
    if (reply != null) {
      reply.fail("internal_error", "The gateway could not read the worker's reply.");
    }
  }

  /** Called by the reply listener for every event it reads. */
  void deliver(InferenceEvent event) {
    Reply reply = replies.get(event.getRequestId());
    if (reply == null) {
      // Finished, timed out, or another gateway's request on a partition shared by misconfiguration.
      metrics.eventDropped("unknown_request");
    } else if (!reply.offer(event)) {
      metrics.eventDropped("duplicate");
    }
  }
}
