package io.spillway.gateway.jobs;

import io.spillway.gateway.config.SpillwayProperties;
import java.util.regex.Pattern;

/**
 * What a job may ask for, checked the same way whether it was posted to {@code /v1/jobs} or written
 * straight to the jobs topic; anything else is refused with the reason (an HTTP error, or the DLQ and
 * the job's status). The document's token count is checked by the job flow alone: it needs a tokenization.
 */
public record JobLimits(int maxDocumentChars, int maxDocumentTokens, int maxInstructionChars, int minTargetWords,
    int maxTargetWords) {
  /** Job ids appear in URLs and request ids, so they keep to characters that need no escaping. */
  static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1,200}");
  static final Pattern TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  static JobLimits of(SpillwayProperties.Jobs j) {
    return new JobLimits(j.maxDocumentChars(), j.maxDocumentTokens(), j.maxInstructionChars(), j.minTargetWords(), j.maxTargetWords());
  }

  /**
   * A rule a job broke: the field as the HTTP API and as the Avro record name it, what is wrong with it,
   * and whether it is a size limit (HTTP answers those with {@code context_length_exceeded}).
   */
  record Violation(String apiField, String recordField, String problem, boolean tooLong) {}

  /** The first rule the job breaks, or null. */
  Violation check(String id, String document, int targetWords, String callbackTopic, String instructions) {
    if (!ID.matcher(id).matches()) {
      return new Violation("id", "jobId", "must be 1-200 characters of letters, digits and . _ : -", false);
    }
    if (document == null || document.isBlank()) {
      return new Violation("document", "document", "must not be empty", false);
    }
    if (document.length() > maxDocumentChars) {
      return new Violation("document", "document", "has " + document.length() + " characters; at most " + maxDocumentChars
          + " are accepted", true);
    }
    if (targetWords < minTargetWords || targetWords > maxTargetWords) {
      return new Violation("target_words", "targetWords", "must be between " + minTargetWords + " and " + maxTargetWords, false);
    }
    if (callbackTopic != null && !TOPIC.matcher(callbackTopic).matches()) {
      return new Violation("callback_topic", "callbackTopic", "is not a valid Kafka topic name", false);
    }
    if (instructions != null && instructions.length() > maxInstructionChars) {
      return new Violation("instructions", "instructions", "has more than " + maxInstructionChars + " characters", false);
    }
    return null;
  }
}
