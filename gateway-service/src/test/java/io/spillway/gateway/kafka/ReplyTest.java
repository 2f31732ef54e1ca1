package io.spillway.gateway.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ReplyTest {

  private static InferenceEvent event(int attempt, int seq, EventType type) {
    return InferenceEvent.newBuilder()
        .setRequestId("r1")
        .setSessionId("s1")
        .setAttempt(attempt)
        .setSeq(seq)
        .setType(type)
        .setWorkerId("w1")
        .setTimestampMs(0)
        .build();
  }

  @Test
  void passesEachSeqOnceWhateverTheAttempt() throws InterruptedException {
    Reply reply = new Reply("r1");

    assertThat(reply.offer(event(0, 0, EventType.STARTED))).isTrue();
    assertThat(reply.offer(event(0, 1, EventType.DELTA))).isTrue();
    assertThat(reply.offer(event(0, 1, EventType.DELTA))).isFalse();
    assertThat(reply.offer(event(1, 0, EventType.STARTED))).isFalse();
    assertThat(reply.offer(event(1, 1, EventType.DELTA))).isFalse();
    assertThat(reply.offer(event(1, 2, EventType.FINISHED))).isTrue();

    assertThat(reply.poll(Duration.ZERO).getSeq()).isZero();
    assertThat(reply.poll(Duration.ZERO).getSeq()).isEqualTo(1);
    InferenceEvent last = reply.poll(Duration.ZERO);
    assertThat(last.getAttempt()).isEqualTo(1);
    assertThat(last.getType()).isEqualTo(EventType.FINISHED);
    assertThat(reply.poll(Duration.ZERO)).isNull();
  }

  @Test
  void failEndsTheStreamWithAnErrorAndDropsWhatFollows() throws InterruptedException {
    Reply reply = new Reply("r1");

    reply.fail("internal_error", "unreadable");

    assertThat(reply.offer(event(0, 5, EventType.DELTA))).isFalse();
    InferenceEvent error = reply.poll(Duration.ZERO);
    assertThat(error.getType()).isEqualTo(EventType.ERROR);
    assertThat(error.getError().getCode()).isEqualTo("internal_error");
  }
}
