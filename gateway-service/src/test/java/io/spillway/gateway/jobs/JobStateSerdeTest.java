package io.spillway.gateway.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.spillway.schemas.JobStatus;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobStateSerdeTest {
  private static final JobState RUNNING = JobState.failed("j1", "key-1", null, 5L).withStatus(JobStatus.RUNNING, null, null, 6L)
      .atLevel(0, List.of("one", "two"), 3, 7L).retry(1, 8L);

  @Test
  void aStateComesBackAsItWasStored() {
    var serde = JobStateSerde.serde();
    assertThat(serde.deserializer().deserialize("t", serde.serializer().serialize("t", RUNNING))).isEqualTo(RUNNING);
  }

  @Test
  void aStateStoredBeforeRetriesExistedReadsAsFirstAttempts() {
    var serde = JobStateSerde.serde();
    String json = new String(serde.serializer().serialize("t", RUNNING), StandardCharsets.UTF_8);
    String old = json.replaceAll(",\"attempts\":\\[[0-9,]*\\]", "");
    assertThat(old).doesNotContain("attempts");
    assertThat(serde.deserializer().deserialize("t", old.getBytes(StandardCharsets.UTF_8)).attempts()).containsExactly(0, 0);
  }
}
