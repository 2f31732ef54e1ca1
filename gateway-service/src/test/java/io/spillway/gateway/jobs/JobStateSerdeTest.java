package io.spillway.gateway.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.JobStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobStateSerdeTest {
  private static final JobState RUNNING = JobState.failed("j1", "key-1", null, 5L).atLevel(0, List.of("one", "two"), 3, 7L)
      .retry(1, 8L).taken(0, 9L);

  @Test
  void aStateComesBackAsItWasStored() {
    var serde = JobStateSerde.serde();
    assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", RUNNING))).isEqualTo(RUNNING);
  }

  /** RUNNING as a version of the flow stored it before {@code field} existed. */
  private static JobState storedWithout(String field) {
    var serde = JobStateSerde.serde();
    String json = new String(serde.serializer().serialize("t", RUNNING), StandardCharsets.UTF_8);
    String old = json.replaceAll(",\"" + field + "\":\\[[0-9,]*\\]", "");
    assertThat(old).doesNotContain(field);
    return serde.deserializer().deserialize("t", old.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aStateStoredBeforeRetriesExistedReadsAsFirstAttempts() {
    assertThat(storedWithout("attempts").attempts()).containsExactly(0, 0);
  }

  @Test
  void aStateStoredBeforeChunkTimesExistedReadsAsNotTaken() {
    JobState read = storedWithout("activeAtMs");
    assertThat(read.activeAtMs()).containsExactly(0L, 0L);
    assertThat(read.stalled(Long.MAX_VALUE)).isEmpty();
    assertThat(RUNNING.stalled(9L)).containsExactly(0);
    assertThat(RUNNING.stalled(8L)).isEmpty();
  }

  @Test
  void anEndedJobKeepsOnlyWhatItsStatusShows() {
    JobState done = RUNNING.ended(JobStatus.DONE, "Two.", null, 10L);
    assertThat(done.inputs()).isEmpty();
    assertThat(done.outputs()).isEmpty();
    assertThat(done.stalled(Long.MAX_VALUE)).isEmpty();
    assertThat(done).extracting(JobState::status, JobState::summary, JobState::chunksTotal, JobState::apiKeyId, JobState::updatedAtMs)
        .containsExactly(JobStatus.DONE, "Two.", 3, "key-1", 10L);
  }
}
