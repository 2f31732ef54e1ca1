package io.spillway.gateway.jobs;

import io.spillway.schemas.ChatMessage;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.RequestKind;
import io.spillway.schemas.SamplingOptions;
import java.util.List;
import java.util.Map;

/**
 * The model requests of a job. Ids are {@code <jobId>/<level>/<index>}, the same on every run, and
 * sampling is greedy: a job re-run after a crash asks the same questions and gets the same answers,
 * which the topology then recognizes as ones it has seen. A request the worker failed on (an
 * {@code internal_error}: its engine threw) or went silent on is asked again as the next attempt, up to {@code maxAttempts}.
 */
final class JobRequests {
  private static final String SYSTEM = "You write faithful, concise summaries. Answer with the summary only.";

  private final String model;
  private final String replyTopic;
  private final int partialSummaryTokens;
  private final int maxAttempts;

  JobRequests(String model, String replyTopic, int partialSummaryTokens, int maxAttempts) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("spillway.jobs.max-chunk-attempts must be at least 1, not " + maxAttempts);
    }
    this.model = model;
    this.replyTopic = replyTopic;
    this.partialSummaryTokens = partialSummaryTokens;
    this.maxAttempts = maxAttempts;
  }

  /**
   * Whether a request that failed with {@code code} on attempt {@code attempt} is asked again. Only the worker's
   * own failures are: an invalid or too long request would fail the same way every time.
   */
  boolean retries(String code, int attempt) {
    return "internal_error".equals(code) && hasAttemptAfter(attempt);
  }

  /** Whether a request may be asked again after attempt {@code attempt} (a worker that went silent on it, too). */
  boolean hasAttemptAfter(int attempt) {
    return attempt + 1 < maxAttempts;
  }

  static String requestId(String jobId, int level, int index) {
    return jobId + "/" + level + "/" + index;
  }

  /**
   * A one-shot session per attempt: the session id is the requests topic's key, so a chunk asked again after its
   * worker failed or went silent most likely lands on another partition, and so on another worker.
   */
  static String sessionId(String requestId, int attempt) {
    return attempt == 0 ? requestId : requestId + "~" + attempt;
  }

  /** {jobId, level, index} of a request id made here; null for any other id. */
  static String[] parse(String requestId) {
    int b = requestId == null ? -1 : requestId.lastIndexOf('/');
    int a = b <= 0 ? -1 : requestId.lastIndexOf('/', b - 1);
    if (a <= 0) {
      return null;
    }
    String level = requestId.substring(a + 1, b);
    String index = requestId.substring(b + 1);
    if (level.isEmpty() || index.isEmpty() || !(level + index).chars().allMatch(Character::isDigit) || level.length() > 4
        || index.length() > 6) {
      return null;
    }
    return new String[] {requestId.substring(0, a), level, index};
  }

  /**
   * Request {@code index} of the job's current level, answered on {@code replyPartition}: the job's own
   * partition, so the answer reaches the task that holds the job.
   */
  InferenceRequest request(JobState job, int index, int replyPartition, long now) {
    boolean last = job.finalLevel();
    String kind = job.level() == 0 ? "text" : "partial summaries of one document";
    String length = last ? "in about " + job.targetWords() + " words" : "briefly";
    String guidance = job.instructions() == null || job.instructions().isBlank() ? "" : " " + job.instructions().strip();
    String user = "Summarize the following " + kind + " " + length + "." + guidance + "\n\n" + job.inputs().get(index);
    int maxTokens = last ? Math.max(16, job.targetWords() * 2) : partialSummaryTokens;
    String id = requestId(job.jobId(), job.level(), index);
    int attempt = job.attempts().get(index);
    return InferenceRequest.newBuilder()
        .setRequestId(id)
        .setSessionId(sessionId(id, attempt))
        .setAttempt(attempt)
        .setApiKeyId(job.apiKeyId())
        .setModel(model)
        .setReplyTopic(replyTopic)
        .setReplyPartition(replyPartition)
        .setCreatedAtMs(now)
        .setKind(RequestKind.CHAT)
        .setMessages(List.of(new ChatMessage("system", SYSTEM), new ChatMessage("user", user)))
        .setSampling(SamplingOptions.newBuilder().setMaxTokens(maxTokens).setTemperature(0).setTopK(0).setTopP(1)
            .setMinP(0).setRepetitionPenalty(1.1).setSeed(0L).build())
        .setStream(false)
        .setJobId(job.jobId())
        .setMetadata(Map.of())
        .build();
  }
}
