package io.spillway.gateway.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** One set of rules for jobs from HTTP and from the topic: each field named both ways, size limits marked. */
class JobLimitsTest {
  private static final JobLimits LIMITS = new JobLimits(100, 50, 20, 10, 400);

  private static JobLimits.Violation check(String id, String document, int words, String topic, String instructions) {
    return LIMITS.check(id, document, words, topic, instructions);
  }

  @Test
  void aJobWithinTheLimitsPasses() {
    assertThat(check("job-1.a:b_c", "text", 10, "my.topic_1", "be brief")).isNull();
    assertThat(check("j", "text", 400, null, null)).isNull();
  }

  @Test
  void eachBrokenRuleNamesItsFieldBothWaysAndWhatIsWrong() {
    assertThat(check("a b", "text", 50, null, null))
        .isEqualTo(new JobLimits.Violation("id", "jobId", "must be 1-200 characters of letters, digits and . _ : -", false));
    assertThat(check("x".repeat(201), "text", 50, null, null).recordField()).isEqualTo("jobId");
    assertThat(check("a/b", "text", 50, null, null).recordField()).isEqualTo("jobId");
    assertThat(check("j", " ", 50, null, null)).isEqualTo(new JobLimits.Violation("document", "document", "must not be empty", false));
    assertThat(check("j", null, 50, null, null).problem()).isEqualTo("must not be empty");
    assertThat(check("j", "x".repeat(101), 50, null, null))
        .isEqualTo(new JobLimits.Violation("document", "document", "has 101 characters; at most 100 are accepted", true));
    assertThat(check("j", "text", 9, null, null))
        .isEqualTo(new JobLimits.Violation("target_words", "targetWords", "must be between 10 and 400", false));
    assertThat(check("j", "text", 401, null, null).apiField()).isEqualTo("target_words");
    assertThat(check("j", "text", 50, "bad topic!", null))
        .isEqualTo(new JobLimits.Violation("callback_topic", "callbackTopic", "is not a valid Kafka topic name", false));
    assertThat(check("j", "text", 50, null, "x".repeat(21)))
        .isEqualTo(new JobLimits.Violation("instructions", "instructions", "has more than 20 characters", false));
  }
}
