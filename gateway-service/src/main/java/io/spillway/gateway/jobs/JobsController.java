package io.spillway.gateway.jobs;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.auth.ApiKey;
import io.spillway.gateway.auth.ApiKeyInterceptor;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.gateway.kafka.KafkaClients;
import io.spillway.schemas.SummarizationJob;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/**
 * {@code POST /v1/jobs} publishes a {@link SummarizationJob} to the jobs topic, the same flow a
 * producer of its own joins; {@code GET /v1/jobs/{id}} answers from the job flow's store (progress,
 * then the summary or why it failed). A job belongs to the key that submitted it.
 */
@RestController
@RequestMapping("/v1/jobs")
@ConditionalOnProperty(name = "spillway.jobs.enabled", havingValue = "true", matchIfMissing = true)
public final class JobsController {
  /** The body of {@code POST /v1/jobs}. */
  @JsonNaming(SnakeCaseStrategy.class)
  public record JobRequest(String id, String document, String instructions, Integer targetWords, String callbackTopic) {}

  /** A job as the API shows it. */
  @JsonNaming(SnakeCaseStrategy.class)
  public record JobView(String id, String object, String status, int chunksDone, int chunksTotal, String summary, String error) {}

  private final Producer<String, SummarizationJob> producer;
  private final KafkaStreams streams;
  private final String topic;
  private final JobLimits limits;
  private final long sendTimeoutMs;

  /** Closed with the context: the producer is this controller's own. */
  @jakarta.annotation.PreDestroy
  void close() {
    producer.close();
  }

  JobsController(KafkaClients clients, KafkaStreams jobStreams, JobTopics topics, SpillwayProperties p) {
    this.producer = clients.jobProducer();
    this.streams = jobStreams;
    this.topic = topics.jobs();
    this.limits = JobLimits.of(p.jobs());
    this.sendTimeoutMs = p.kafka().sendTimeout().toMillis();
  }

  @PostMapping
  public ResponseEntity<JobView> submit(@RequestAttribute(ApiKeyInterceptor.ATTRIBUTE) ApiKey apiKey, @RequestBody JobRequest body) {
    String id = body.id() == null ? "job-" + UUID.randomUUID() : body.id();
    int words = body.targetWords() == null ? 150 : body.targetWords();
    JobLimits.Violation v = limits.check(id, body.document(), words, body.callbackTopic(), body.instructions());
    if (v != null) {
      String message = "'" + v.apiField() + "' " + v.problem() + ".";
      throw v.tooLong() ? ApiException.contextLengthExceeded(v.apiField(), message) : ApiException.invalidValue(v.apiField(), message);
    }
    SummarizationJob job = new SummarizationJob(id, body.document(), body.instructions(), words, body.callbackTopic(), apiKey.id(),
        System.currentTimeMillis());
    try {
      producer.send(new ProducerRecord<>(topic, id, job)).get(sendTimeoutMs, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw ApiException.kafkaUnavailable("The job could not be queued: Kafka did not accept it in time.");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.kafkaUnavailable("Interrupted while queueing the job.");
    }
    return ResponseEntity.status(HttpStatus.ACCEPTED).body(new JobView(id, "summarization.job", "queued", 0, 0, null, null));
  }

  @GetMapping("/{id}")
  public JobView status(@RequestAttribute(ApiKeyInterceptor.ATTRIBUTE) ApiKey apiKey, @PathVariable("id") String id) {
    JobState job;
    try {
      job = streams.store(StoreQueryParameters.fromNameAndType(JobTopology.STORE, QueryableStoreTypes.<String, JobState>keyValueStore()))
          .get(id);
    } catch (InvalidStateStoreException e) {
      throw ApiException.kafkaUnavailable("The job store is not ready (the job flow is starting or rebalancing); retry shortly.");
    }
    if (job == null || !apiKey.id().equals(job.apiKeyId())) {
      throw ApiException.jobNotFound();
    }
    return new JobView(id, "summarization.job", job.status().name().toLowerCase(Locale.ROOT), job.chunksDone(),
        Math.max(job.chunksTotal(), job.chunksDone()), job.summary(), job.error());
  }
}
