package io.spillway.gateway.jobs;

import io.spillway.gateway.api.ApiException;
import io.spillway.gateway.auth.ApiKey;
import io.spillway.gateway.auth.ApiKeyInterceptor;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.gateway.kafka.KafkaClients;
import io.spillway.schemas.SummarizationJob;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
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
  private static final Logger log = LoggerFactory.getLogger(JobsController.class);
  /** Marks a lookup one gateway makes at another, which then answers from its own store only. */
  static final String FORWARDED = "X-Spillway-Job-Lookup";
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
  /** This gateway as the job flow advertises it to the others; null when it does not. */
  private final HostInfo self;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

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
    this.self = p.jobs().advertisedEndpoint().isBlank() ? null : HostInfo.buildFromEndpoint(p.jobs().advertisedEndpoint());
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

  /**
   * Answers from this gateway's part of the job store, or, when another gateway of the deployment holds
   * the job's partition and advertises itself ({@code spillway.jobs.advertised-endpoint}), asks that one
   * with the caller's key and passes its answer on as it is.
   */
  @GetMapping("/{id}")
  public ResponseEntity<?> status(@RequestAttribute(ApiKeyInterceptor.ATTRIBUTE) ApiKey apiKey, @PathVariable("id") String id,
      @RequestHeader(HttpHeaders.AUTHORIZATION) String authorization,
      @RequestHeader(value = FORWARDED, required = false) String forwarded) {
    if (self != null && forwarded == null) {
      KeyQueryMetadata owner = streams.queryMetadataForKey(JobTopology.STORE, id, Serdes.String().serializer());
      if (owner == null || KeyQueryMetadata.NOT_AVAILABLE.equals(owner)) {
        throw ApiException.kafkaUnavailable("The job store is not ready (the job flow is starting or rebalancing); retry shortly.");
      }
      // A holder that does not advertise itself (port -1) cannot be asked.
      if (!self.equals(owner.activeHost()) && owner.activeHost().port() > 0) {
        return ask(owner.activeHost(), id, authorization);
      }
    }
    return ResponseEntity.ok(local(apiKey, id));
  }

  private ResponseEntity<String> ask(HostInfo owner, String id, String authorization) {
    try {
      URI uri = new URI("http", null, owner.host(), owner.port(), "/v1/jobs/" + id, null, null);
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMillis(sendTimeoutMs))
          .header(HttpHeaders.AUTHORIZATION, authorization).header(FORWARDED, "1").GET().build(), HttpResponse.BodyHandlers.ofString());
      return ResponseEntity.status(r.statusCode()).contentType(MediaType.APPLICATION_JSON).body(r.body());
    } catch (IOException | URISyntaxException e) {
      log.warn("job lookup at the gateway holding it failed job={} owner={}:{} error={}", id, owner.host(), owner.port(), e.toString());
      throw ApiException.kafkaUnavailable("The gateway holding this job could not be reached; retry shortly.");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw ApiException.kafkaUnavailable("Interrupted while asking the gateway holding this job.");
    }
  }

  private JobView local(ApiKey apiKey, String id) {
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
