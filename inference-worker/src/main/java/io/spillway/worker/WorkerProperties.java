package io.spillway.worker;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.nio.file.Path;
import org.springframework.util.unit.DataSize;

import java.time.Duration;
import java.util.Map;

/**
 * Everything the worker reads from Spring properties ({@code spillway.*}); the defaults run the
 * shipped tiny model against a local broker.
 *
 * @param model         Hugging Face model directory
 * @param modelName     the name clients ask for
 * @param backend       {@code auto} (a CUDA GPU where one is usable, else the CPU), {@code cuda} or {@code cpu}
 * @param kv            KV method ({@code fp32}, {@code fp16}, {@code rotatekv2}, ...)
 * @param maxContext    the most tokens a sequence holds (prompt and output); 0 takes the model's positions
 * @param maxBatch      sequences decoding together
 * @param maxQueued     requests waiting for a place in the batch beyond which the worker takes no more from Kafka
 * @param prefillBudget prompt tokens prefilled per engine step
 * @param maxSessions   hot sessions kept (least recently used idle ones spill beyond)
 * @param kvBudget      KV cache bytes of hot sessions kept (least recently used idle ones spill beyond)
 * @param workerId      name in events and logs; the host name when empty
 * @param drainTimeout  on shutdown, how long running generations may finish; the rest are handed back
 *                      (not committed, so another worker runs them again)
 * @param spill         where sessions spill to; spilling is off while its URL is empty
 */
@ConfigurationProperties("spillway.worker")
public record WorkerProperties(@DefaultValue("models/tiny-llama") Path model, @DefaultValue("tiny-llama") String modelName,
                               @DefaultValue("auto") String backend, @DefaultValue("rotatekv2") String kv,
                               @DefaultValue("0") int maxContext, @DefaultValue("8") int maxBatch, @DefaultValue("16") int maxQueued,
                               @DefaultValue("256") int prefillBudget, @DefaultValue("256") int maxSessions,
                               @DefaultValue("1GB") DataSize kvBudget,
                               @DefaultValue("") String workerId, @DefaultValue("30s") Duration drainTimeout,
                               @DefaultValue Spill spill, @DefaultValue Kafka kafka) {

    /**
     * @param url     kv-spill-service's base URL, e.g. {@code http://spill:8083}; empty turns spilling off
     * @param token   its bearer token
     * @param timeout connect and request timeout of each call
     */
    public record Spill(@DefaultValue("") String url, @DefaultValue("") String token, @DefaultValue("10s") Duration timeout) {
    }

    /**
     * @param bootstrapServers  the brokers
     * @param schemaRegistryUrl Confluent-compatible registry
     * @param groupId           consumer group of all workers
     * @param requestsTopic     where requests arrive
     * @param deadLetterTopic   where undecodable or invalid requests go
     * @param commitInterval    how often offsets below the oldest unfinished request are committed
     * @param sessionsTopic     the compacted session directory this worker reports HOT and SPILLED sessions to
     * @param properties        extra Kafka client settings for the consumer and the producer as they are
     *                          (TLS, SASL: {@code security.protocol}, {@code sasl.jaas.config}, ...)
     */
    public record Kafka(@DefaultValue("localhost:9092") String bootstrapServers,
                        @DefaultValue("http://localhost:8081") String schemaRegistryUrl,
                        @DefaultValue("spillway-workers") String groupId,
                        @DefaultValue("spillway.requests") String requestsTopic,
                        @DefaultValue("spillway.requests.dlq") String deadLetterTopic,
                        @DefaultValue("1s") Duration commitInterval,
                        @DefaultValue("spillway.sessions") String sessionsTopic,
                        @DefaultValue Map<String, String> properties) {
    }
}
