package io.spillway.gateway.kafka;

import io.spillway.schemas.ErrorInfo;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The events of one request on their way from the reply listener to the HTTP exchange waiting for
 * them, duplicates removed: an event whose seq is at or below the highest one passed on is dropped,
 * whatever its attempt, since a re-delivered request generates the same stream again from seq 0.
 */
public final class Reply {

  private final String requestId;
  private final BlockingQueue<InferenceEvent> events = new LinkedBlockingQueue<>();
  // Written only by the reply listener's thread.
  private int lastSeq = -1;

  Reply(String requestId) {
    this.requestId = requestId;
  }

  public String requestId() {
    return requestId;
  }

  /** Passes {@code event} on unless it was seen already; false when it is dropped as a duplicate. */
  boolean offer(InferenceEvent event) {
    if (event.getSeq() <= lastSeq) {
      return false;
    }
    lastSeq = event.getSeq();
    events.add(event);
    return true;
  }

  /**
   * Ends the stream with an ERROR the gateway writes itself, for an event of this request it could
   * not read; whatever the worker sends after it is dropped.
   */
  void fail(String code, String message) {
    lastSeq = Integer.MAX_VALUE;
    events.add(
        InferenceEvent.newBuilder()
            .setRequestId(requestId)
            .setSessionId("")
            .setAttempt(0)
            .setSeq(Integer.MAX_VALUE)
            .setType(EventType.ERROR)
            .setError(new ErrorInfo(code, message))
            .setWorkerId("gateway")
            .setTimestampMs(System.currentTimeMillis())
            .build());
  }

  /** The next event, or null if none came within {@code timeout}. */
  public InferenceEvent poll(Duration timeout) throws InterruptedException {
    return events.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }
}
