package io.spillway.gateway.jobs;

import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.gateway.kafka.KafkaClients;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The summarization job flow: its Kafka Streams app, on when {@code spillway.jobs.enabled} (the default). */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "spillway.jobs.enabled", havingValue = "true", matchIfMissing = true)
class JobsConfiguration {
  private static final Logger log = LoggerFactory.getLogger(JobsConfiguration.class);
  /** Room for the instructions and the chat template around a chunk. */
  private static final int PROMPT_OVERHEAD_TOKENS = 128;

  @Bean
  JobTopics jobTopics(SpillwayProperties p) {
    var j = p.jobs();
    return new JobTopics(j.topic(), j.eventsTopic(), j.summariesTopic(), j.deadLetterTopic(), p.topics().requests());
  }

  /**
   * Closed leaving the consumer group (Streams stays in it by default): another gateway takes the
   * job partitions over at once instead of after the session timeout.
   */
  @Bean(destroyMethod = "")
  KafkaStreams jobStreams(SpillwayProperties p, JobTopics topics, KafkaClients clients) {
    var j = p.jobs();
    int context = ModelConfig.load(j.model()).maxPositions();
    if (j.chunkTokens() + PROMPT_OVERHEAD_TOKENS + Math.max(j.partialSummaryTokens(), 2 * j.maxTargetWords()) > context) {
      throw new IllegalStateException("spillway.jobs: chunk-tokens " + j.chunkTokens() + " + prompt " + PROMPT_OVERHEAD_TOKENS
          + " + the longest answer (partial-summary-tokens or 2 x max-target-words) exceed the model's context of " + context);
    }
    if (j.partialSummaryTokens() * 3 > j.chunkTokens()) {
      throw new IllegalStateException("spillway.jobs.partial-summary-tokens must be at most a third of chunk-tokens,"
          + " or partial summaries would not shrink from one reduce level to the next");
    }
    Chunker chunker = new Chunker(Tokenizer.load(j.model()), j.chunkTokens(), j.overlapTokens());
    JobRequests requests = new JobRequests(p.gateway().models().getFirst(), j.eventsTopic(), j.partialSummaryTokens(),
        j.maxChunkAttempts());
    JobLimits limits = JobLimits.of(j);
    Map<String, Object> config = new HashMap<>(clients.connection());
    config.put(StreamsConfig.APPLICATION_ID_CONFIG, j.applicationId());
    config.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    config.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, j.commitInterval().toMillis());
    config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir(j.stateDir()));
    if (!j.advertisedEndpoint().isBlank()) {
      config.put(StreamsConfig.APPLICATION_SERVER_CONFIG, j.advertisedEndpoint());
    }
    KafkaStreams streams = new KafkaStreams(JobTopology.build(topics, limits, chunker, requests,
        new JobTimeouts(j.retention(), j.chunkTimeout()), clients.registry()),
        new StreamsConfig(config));
    streams.setUncaughtExceptionHandler(e -> {
      log.error("job flow failed, replacing its thread error={}", e.toString());
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.start();
    log.info("job flow started applicationId={} topic={} chunkTokens={}", j.applicationId(), j.topic(), j.chunkTokens());
    return streams;
  }

  @Bean
  org.springframework.beans.factory.DisposableBean jobStreamsCloser(KafkaStreams jobStreams) {
    return () -> jobStreams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(java.time.Duration.ofSeconds(30)));
  }

  private static String stateDir(String configured) {
    if (!configured.isBlank()) {
      return configured;
    }
    return Path.of(System.getProperty("java.io.tmpdir"), "spillway-jobs-state").toString();
  }
}
