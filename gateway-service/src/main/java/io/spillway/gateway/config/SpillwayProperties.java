package io.spillway.gateway.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/** Every {@code spillway.*} setting of the gateway; gateway-service/README.md has the table. */
@ConfigurationProperties("spillway")
public record SpillwayProperties(
    @DefaultValue Kafka kafka,
    @DefaultValue SchemaRegistry schemaRegistry,
    @DefaultValue Topics topics,
    @DefaultValue Gateway gateway,
    @DefaultValue Jobs jobs) {

  /**
   * How to reach Kafka. {@code properties} go to the producer and the consumer as they are (TLS,
   * SASL, ...), over the gateway's own settings.
   */
  public record Kafka(
      @DefaultValue("localhost:9092") String bootstrapServers,
      @DefaultValue("10s") Duration sendTimeout,
      @DefaultValue Map<String, String> properties) {}

  /** The schema registry the Avro serde registers and looks up schemas in. */
  public record SchemaRegistry(
      @DefaultValue("http://localhost:8081") String url, @DefaultValue("true") boolean autoRegister) {}

  /** Topic names of the Kafka contract (docs/KAFKA.md). */
  public record Topics(
      @DefaultValue("spillway.requests") String requests, @DefaultValue("spillway.events") String events) {}

  /**
   * Summarization jobs: the Kafka Streams topology and its limits (gateway-service/README.md).
   *
   * @param model            the model directory whose tokenizer sizes the chunks
   * @param chunkTokens      tokens of document (or of grouped partial summaries) per model request
   * @param overlapTokens    tokens each chunk repeats from the end of the one before
   * @param partialSummaryTokens most tokens of each chunk's partial summary
   * @param advertisedEndpoint host:port at which the other gateways of the deployment reach this one (Kafka
   *                         Streams' application.server), so that any of them answers GET /v1/jobs/{id} by asking
   *                         the one holding the job; empty: a gateway answers only the jobs it holds
   */
  public record Jobs(
      @DefaultValue("true") boolean enabled,
      @DefaultValue("spillway.jobs") String topic,
      @DefaultValue("spillway.job-events") String eventsTopic,
      @DefaultValue("spillway.summaries") String summariesTopic,
      @DefaultValue("spillway.jobs.dlq") String deadLetterTopic,
      @DefaultValue("spillway-jobs") String applicationId,
      @DefaultValue("") String stateDir,
      @DefaultValue("models/tiny-llama") java.nio.file.Path model,
      @DefaultValue("1024") int chunkTokens,
      @DefaultValue("64") int overlapTokens,
      @DefaultValue("160") int partialSummaryTokens,
      @DefaultValue("3") int maxChunkAttempts,
      @DefaultValue("7d") Duration retention,
      @DefaultValue("10m") Duration chunkTimeout,
      @DefaultValue("1000000") int maxDocumentChars,
      @DefaultValue("200000") int maxDocumentTokens,
      @DefaultValue("4000") int maxInstructionChars,
      @DefaultValue("10") int minTargetWords,
      @DefaultValue("400") int maxTargetWords,
      @DefaultValue("1s") Duration commitInterval,
      @DefaultValue("") String advertisedEndpoint) {}

  /** The HTTP side: who may call, what they may ask for, how long they wait. */
  public record Gateway(
      @DefaultValue List<String> apiKeys,
      @DefaultValue("tiny-llama") List<String> models,
      @DefaultValue List<Integer> replyPartitions,
      @DefaultValue("60s") Duration firstTokenTimeout,
      @DefaultValue("30s") Duration eventTimeout,
      @DefaultValue("10m") Duration requestTimeout,
      @DefaultValue("100000") int maxPromptChars,
      @DefaultValue("512") int defaultMaxTokens,
      @DefaultValue("100000") int maxSessions) {}
}
