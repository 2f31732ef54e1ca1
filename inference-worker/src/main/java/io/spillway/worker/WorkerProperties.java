package io.spillway.worker;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything the worker reads from Spring properties ({@code spillway.*}); the defaults run the
 * shipped tiny model against a local broker.
 *
 * @param model         Hugging Face model directory
 * @param modelName     the name clients ask for
 * @param kv            KV method ({@code fp32}, {@code fp16}, {@code rotatekv2}, ...)
 * @param maxBatch      sequences decoding together
 * @param prefillBudget prompt tokens prefilled per engine step
 * @param maxSessions   hot sessions kept (least recently used ones are dropped beyond)
 * @param workerId      name in events and logs; the host name when empty
 * @param drainTimeout  on shutdown, how long running generations may finish; the rest are handed back
 *                      (not committed, so another worker runs them again)
 */
@ConfigurationProperties("spillway.worker")
public record WorkerProperties(@DefaultValue("models/tiny-llama") Path model, @DefaultValue("tiny-llama") String modelName,
                               @DefaultValue("rotatekv2") String kv, @DefaultValue("8") int maxBatch,
                               @DefaultValue("256") int prefillBudget, @DefaultValue("256") int maxSessions,
                               @DefaultValue("") String workerId, @DefaultValue("30s") Duration drainTimeout,
                               @DefaultValue Kafka kafka) {

    /**
     * @param bootstrapServers  the brokers
     * @param schemaRegistryUrl Confluent-compatible registry
     * @param groupId           consumer group of all workers
     * @param requestsTopic     where requests arrive
     * @param deadLetterTopic   where undecodable or invalid requests go
     * @param commitInterval    how often offsets below the oldest unfinished request are committed
     */
    public record Kafka(@DefaultValue("localhost:9092") String bootstrapServers,
                        @DefaultValue("http://localhost:8081") String schemaRegistryUrl,
                        @DefaultValue("spillway-workers") String groupId,
                        @DefaultValue("spillway.requests") String requestsTopic,
                        @DefaultValue("spillway.requests.dlq") String deadLetterTopic,
                        @DefaultValue("1s") Duration commitInterval) {
    }
}
