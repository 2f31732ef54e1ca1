package io.spillway.gateway.jobs;

import io.spillway.schemas.DeadLetter;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.JobStatus;
import io.spillway.schemas.SummarizationJob;
import io.spillway.schemas.SummarizationResult;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job flow, one task per partition of the jobs topic: a new job is checked, chunked and sent to
 * the model; each answer is applied once (by event seq) to the job's state; a finished level is
 * grouped into the next; the last level's answer is the summary. Every change of progress is a
 * {@link SummarizationResult}. A job id seen before is ignored, so a redelivered job gives one result, until the
 * job has ended and the retention has passed since: then it is forgotten, so the store does not grow forever. A chunk
 * that a worker took and then sent nothing for during the chunk timeout (a worker stuck but alive) is asked again, as
 * after the worker's own error.
 */
final class JobProcessor implements Processor<byte[], byte[], String, SpecificRecord> {
  private static final Logger log = LoggerFactory.getLogger(JobProcessor.class);
  static final String JOBS_SOURCE = "jobs";
  static final String EVENTS_SOURCE = "job-events";
  static final String REQUESTS_SINK = "requests";
  static final String RESULTS_SINK = "summaries";
  static final String CALLBACK_SINK = "callbacks";
  static final String DLQ_SINK = "dead-letters";
  static final String CALLBACK_HEADER = "spillway-callback-topic";

  private final JobTopics topics;
  private final JobLimits limits;
  private final Chunker chunker;
  private final JobRequests requests;
  private final JobTimeouts timeouts;
  private final Deserializer<SummarizationJob> jobs;
  private final Deserializer<InferenceEvent> events;
  private ProcessorContext<String, SpecificRecord> context;
  private KeyValueStore<String, JobState> store;

  JobProcessor(JobTopics topics, JobLimits limits, Chunker chunker, JobRequests requests, JobTimeouts timeouts,
      Deserializer<SummarizationJob> jobs, Deserializer<InferenceEvent> events) {
    this.topics = topics;
    this.limits = limits;
    this.chunker = chunker;
    this.requests = requests;
    this.timeouts = timeouts;
    this.jobs = jobs;
    this.events = events;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.store = context.getStateStore(JobTopology.STORE);
    Duration every = timeouts.sweepInterval();
    if (every != null) {
      context.schedule(every, PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }
  }

  /**
   * Drops ended jobs last changed more than the retention before {@code now} (their results stay on the summaries
   * topic), and asks again the chunks that went silent for the chunk timeout.
   */
  private void sweep(long now) {
    Duration retention = timeouts.retention();
    Duration timeout = timeouts.chunkTimeout();
    List<String> old = new ArrayList<>();
    List<Map.Entry<JobState, List<Integer>>> stalled = new ArrayList<>();
    try (KeyValueIterator<String, JobState> all = store.all()) {
      while (all.hasNext()) {
        JobState job = all.next().value;
        if (job.status() != JobStatus.RUNNING) {
          if (retention.isPositive() && job.updatedAtMs() < now - retention.toMillis()) {
            old.add(job.jobId());
          }
        } else if (timeout.isPositive()) {
          List<Integer> silent = job.stalled(now - timeout.toMillis());
          if (!silent.isEmpty()) {
            stalled.add(Map.entry(job, silent));
          }
        }
      }
    }
    old.forEach(store::delete);
    if (!old.isEmpty()) {
      log.info("ended jobs forgotten count={} retention={}", old.size(), retention);
    }
    stalled.forEach(e -> askAgain(e.getKey(), e.getValue()));
  }

  /** Asks a job's silent chunks again as their next attempts, or fails the job when one has none left. */
  private void askAgain(JobState job, List<Integer> silent) {
    for (int index : silent) {
      int attempt = job.attempts().get(index);
      if (!requests.hasAttemptAfter(attempt)) {
        failChunk(job, index, "had no answer from its worker for " + timeouts.chunkTimeout().toSeconds() + " s" + attemptNote(attempt));
        return;
      }
    }
    for (int index : silent) {
      log.warn("job chunk went silent, asked again job={} level={} chunk={} attempt={}", job.jobId(), job.level(), index,
          job.attempts().get(index) + 1);
      job = job.retry(index, now());
    }
    store.put(job.jobId(), job);
    for (int index : silent) {
      send(job, index);
    }
  }

  @Override
  public void process(Record<byte[], byte[]> record) {
    String topic = context.recordMetadata().map(m -> m.topic()).orElse("");
    if (topic.equals(topics.jobs())) {
      job(record);
    } else {
      event(record);
    }
  }

  private void job(Record<byte[], byte[]> record) {
    String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    SummarizationJob job;
    try {
      job = record.value() == null ? null : jobs.deserialize(topics.jobs(), record.value());
    } catch (SerializationException e) {
      reject(record, key, null, "undecodable job: " + e.getMessage(), e);
      return;
    }
    if (job == null) {
      reject(record, key, null, "empty job record", null);
      return;
    }
    String id = job.getJobId();
    if (id == null || id.isBlank()) {
      reject(record, key, job.getApiKeyId(), "jobId is empty", null);
      return;
    }
    if (store.get(id) != null) {
      log.info("job already known, redelivery ignored job={}", id);
      return;
    }
    String invalid = invalid(job, key);
    if (invalid != null) {
      reject(record, id, job.getApiKeyId(), invalid, null);
      return;
    }
    List<String> chunks = chunker.chunks(job.getDocument());
    JobState fresh = new JobState(id, job.getApiKeyId(), job.getInstructions(), job.getTargetWords(),
        job.getCallbackTopic(), JobStatus.RUNNING, null, null, 0, List.of(), List.of(), List.of(), List.of(), 0, 0,
        now(), List.of(), List.of()).atLevel(0, chunks, chunks.size() + (chunks.size() > 1 ? 1 : 0), now());
    log.info("job accepted job={} chunks={}", id, chunks.size());
    start(fresh);
  }

  /** Why the job cannot run; null when it can. The document's token count is checked last (it costs a tokenization). */
  private String invalid(SummarizationJob job, String key) {
    if (key != null && !key.equals(job.getJobId())) {
      return "the record key '" + key + "' is not the jobId";
    }
    JobLimits.Violation v = limits.check(job.getJobId(), job.getDocument(), job.getTargetWords(), job.getCallbackTopic(),
        job.getInstructions());
    if (v != null) {
      return v.recordField() + " " + v.problem();
    }
    int tokens = chunker.tokens(job.getDocument());
    if (tokens > limits.maxDocumentTokens()) {
      return "document has " + tokens + " tokens; at most " + limits.maxDocumentTokens() + " are accepted";
    }
    return null;
  }

  private void event(Record<byte[], byte[]> record) {
    InferenceEvent e;
    try {
      e = record.value() == null ? null : events.deserialize(topics.events(), record.value());
    } catch (SerializationException ex) {
      log.warn("undecodable job event skipped error={}", ex.getMessage());
      return;
    }
    String[] id = e == null ? null : JobRequests.parse(e.getRequestId());
    JobState job = id == null ? null : store.get(id[0]);
    if (job == null || job.status() != JobStatus.RUNNING || job.level() != Integer.parseInt(id[1])) {
      return;
    }
    int index = Integer.parseInt(id[2]);
    if (index >= job.inputs().size() || e.getAttempt() != job.attempts().get(index)) {
      return;
    }
    if (e.getType() == EventType.STARTED) {
      if (!job.done().get(index)) {
        store.put(job.jobId(), job.taken(index, now()));
      }
      return;
    }
    if (e.getType() == EventType.ERROR) {
      String code = e.getError() == null ? null : e.getError().getCode();
      int attempt = job.attempts().get(index);
      if (!job.done().get(index) && requests.retries(code, attempt)) {
        log.warn("job chunk failed, asked again job={} level={} chunk={} attempt={} code={}", job.jobId(), job.level(), index,
            attempt + 1, code);
        JobState retried = job.retry(index, now());
        store.put(job.jobId(), retried);
        send(retried, index);
        return;
      }
      String why = e.getError() == null ? "the model failed" : code + ": " + e.getError().getMessage();
      failChunk(job, index, "failed" + attemptNote(attempt) + ": " + why);
      return;
    }
    boolean finished = e.getType() == EventType.FINISHED;
    if (!finished && e.getType() != EventType.DELTA) {
      return;
    }
    JobState next = job.apply(index, e.getSeq(), e.getDeltaText(), finished, now());
    if (next == job) {
      return;
    }
    if (!finished) {
      store.put(job.jobId(), next);
    } else if (!next.levelDone()) {
      store.put(job.jobId(), next);
      result(next);
    } else if (next.finalLevel()) {
      finish(next.ended(JobStatus.DONE, next.outputs().getFirst().strip(), null, now()));
    } else {
      List<String> groups = chunker.groups(next.outputs());
      start(next.atLevel(next.level() + 1, groups, next.chunksTotal() + (groups.size() > 1 ? groups.size() : 0), now()));
    }
  }

  /** Fails the job because of chunk {@code index}: "chunk i of level l {@code what}". */
  private void failChunk(JobState job, int index, String what) {
    finish(job.ended(JobStatus.FAILED, null, "chunk " + index + " of level " + job.level() + " " + what, now()));
  }

  /** " (attempt n)" after the first attempt, nothing on it. */
  private static String attemptNote(int attempt) {
    return attempt == 0 ? "" : " (attempt " + (attempt + 1) + ")";
  }

  /** Stores a level and sends its requests, answered on this task's partition (the job's). */
  private void start(JobState job) {
    store.put(job.jobId(), job);
    for (int i = 0; i < job.inputs().size(); i++) {
      send(job, i);
    }
    result(job);
  }

  private void send(JobState job, int index) {
    var request = requests.request(job, index, context.taskId().partition(), now());
    context.forward(new Record<String, SpecificRecord>(request.getSessionId(), request, now()), REQUESTS_SINK);
  }

  private void finish(JobState job) {
    store.put(job.jobId(), job);
    log.info("job ended job={} status={} chunks={}", job.jobId(), job.status(), job.chunksDone());
    result(job);
  }

  private void result(JobState job) {
    SummarizationResult r = new SummarizationResult(job.jobId(), job.status(), job.chunksDone(),
        Math.max(job.chunksTotal(), job.chunksDone()), job.summary(), job.error(), job.updatedAtMs());
    context.forward(new Record<String, SpecificRecord>(job.jobId(), r, now()), RESULTS_SINK);
    if (job.callbackTopic() != null) {
      var headers = new RecordHeaders().add(CALLBACK_HEADER, job.callbackTopic().getBytes(StandardCharsets.UTF_8));
      context.forward(new Record<String, SpecificRecord>(job.jobId(), r, now(), headers), CALLBACK_SINK);
    }
  }

  private void reject(Record<byte[], byte[]> record, String jobId, String apiKeyId, String reason, Exception cause) {
    var meta = context.recordMetadata().orElseThrow();
    DeadLetter dead = new DeadLetter(meta.topic(), meta.partition(), meta.offset(),
        record.key() == null ? null : ByteBuffer.wrap(record.key()), record.value() == null ? null : ByteBuffer.wrap(record.value()),
        reason, cause == null ? null : cause.getClass().getName(), now());
    context.forward(new Record<String, SpecificRecord>(jobId, dead, now()), DLQ_SINK);
    log.warn("job rejected job={} reason={}", jobId, reason);
    if (jobId != null && !jobId.isBlank() && store.get(jobId) == null) {
      finish(JobState.failed(jobId, apiKeyId, reason, now()));
    }
  }

  /** The task's wall clock (the system's; a test driver's own in tests). */
  private long now() {
    return context.currentSystemTimeMs();
  }
}
