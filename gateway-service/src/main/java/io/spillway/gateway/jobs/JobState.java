package io.spillway.gateway.jobs;

import io.spillway.schemas.JobStatus;
import java.util.ArrayList;
import java.util.List;

/**
 * A job as its topology holds it, keyed by job id in the {@code jobs} store: the texts of the current
 * reduce level and what the model has answered for each so far. Level 0 holds the document's chunks;
 * each later level the groups of the previous level's summaries; a level of one text is the last.
 *
 * @param lastSeq per text, the highest event seq applied, so a re-delivered answer is not applied twice
 * @param attempts per text, the attempt of the request asked last (0 first; a retry after a worker's error is 1, ...):
 *     events of any other attempt are stale. Null (so in states stored before retries existed): all 0
 * @param activeAtMs per text, when a worker last sent something for its current attempt (took it, or a token): 0
 *     until one takes it. Null (so in states stored before it existed): all 0
 *
 * <p>An ended job keeps only what {@code GET /v1/jobs/{id}} shows (status, progress, summary or error): its texts go.
 */
public record JobState(
    String jobId,
    String apiKeyId,
    String instructions,
    int targetWords,
    String callbackTopic,
    JobStatus status,
    String summary,
    String error,
    int level,
    List<String> inputs,
    List<String> outputs,
    List<Integer> lastSeq,
    List<Boolean> done,
    int chunksDone,
    int chunksTotal,
    long updatedAtMs,
    List<Integer> attempts,
    List<Long> activeAtMs) {

  public JobState {
    if (attempts == null) {
      attempts = java.util.Collections.nCopies(inputs == null ? 0 : inputs.size(), 0);
    }
    if (activeAtMs == null) {
      activeAtMs = java.util.Collections.nCopies(inputs == null ? 0 : inputs.size(), 0L);
    }
  }

  static JobState failed(String jobId, String apiKeyId, String error, long now) {
    return new JobState(jobId, apiKeyId, null, 0, null, JobStatus.FAILED, null, error, 0, List.of(), List.of(), List.of(),
        List.of(), 0, 0, now, List.of(), List.of());
  }

  /** The state when {@code inputs} are sent to the model as level {@code level}: first attempts, none taken yet. */
  JobState atLevel(int level, List<String> inputs, int chunksTotal, long now) {
    List<String> empty = new ArrayList<>();
    List<Integer> seqs = new ArrayList<>();
    List<Boolean> pending = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      empty.add("");
      seqs.add(-1);
      pending.add(false);
    }
    return new JobState(jobId, apiKeyId, instructions, targetWords, callbackTopic, JobStatus.RUNNING, null, null, level,
        List.copyOf(inputs), empty, seqs, pending, chunksDone, chunksTotal, now, null, null);
  }

  boolean finalLevel() {
    return inputs.size() == 1;
  }

  boolean levelDone() {
    return !done.contains(false);
  }

  /** The job ended ({@code status} DONE or FAILED), as its store keeps it until its retention has passed. */
  JobState ended(JobStatus status, String summary, String error, long now) {
    return new JobState(jobId, apiKeyId, instructions, targetWords, callbackTopic, status, summary, error, level, List.of(),
        List.of(), List.of(), List.of(), chunksDone, chunksTotal, now, List.of(), List.of());
  }

  /** Text {@code index} asked again as its next attempt, with what the failed attempt answered dropped. */
  JobState retry(int index, long now) {
    List<String> out = new ArrayList<>(outputs);
    List<Integer> seqs = new ArrayList<>(lastSeq);
    List<Integer> tries = new ArrayList<>(attempts);
    out.set(index, "");
    seqs.set(index, -1);
    tries.set(index, attempts.get(index) + 1);
    return new JobState(jobId, apiKeyId, instructions, targetWords, callbackTopic, status, summary, error, level, inputs,
        out, seqs, done, chunksDone, chunksTotal, now, tries, active(index, 0L));
  }

  /** A worker took text {@code index}'s current attempt at {@code now}. */
  JobState taken(int index, long now) {
    return new JobState(jobId, apiKeyId, instructions, targetWords, callbackTopic, status, summary, error, level, inputs,
        outputs, lastSeq, done, chunksDone, chunksTotal, updatedAtMs, attempts, active(index, now));
  }

  /** Texts not answered yet that a worker took and has sent nothing for since {@code before} or earlier. */
  List<Integer> stalled(long before) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < inputs.size(); i++) {
      long at = activeAtMs.get(i);
      if (!done.get(i) && at > 0 && at <= before) {
        out.add(i);
      }
    }
    return out;
  }

  private List<Long> active(int index, long at) {
    List<Long> out = new ArrayList<>(activeAtMs);
    out.set(index, at);
    return out;
  }

  /** Applies one event's text or end to text {@code index}; the same state when the event was seen before. */
  JobState apply(int index, long seq, String delta, boolean finished, long now) {
    if (seq <= lastSeq.get(index) || done.get(index)) {
      return this;
    }
    List<String> out = new ArrayList<>(outputs);
    List<Integer> seqs = new ArrayList<>(lastSeq);
    List<Boolean> ended = new ArrayList<>(done);
    out.set(index, out.get(index) + (delta == null ? "" : delta));
    seqs.set(index, (int) seq);
    ended.set(index, finished);
    return new JobState(jobId, apiKeyId, instructions, targetWords, callbackTopic, status, summary, error, level, inputs,
        out, seqs, ended, chunksDone + (finished ? 1 : 0), chunksTotal, now, attempts, active(index, now));
  }
}
