package io.spillway.schemas.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The producer settings of every Spillway service. The operator's extra client settings (security and
 * the like) go in first and what delivery depends on goes over them, so no extra setting can weaken it:
 * acks from every in-sync replica, idempotence, the service's batching delay, and, where the service has
 * someone waiting on a send, one timeout for blocking, the request and delivery together.
 */
public final class DeliveryConfig {
    private DeliveryConfig() {
    }

    /**
     * @param lingerMs    how long a record may wait for others to share its batch
     * @param sendTimeout the longest a send may take before it fails, or null for the client's defaults
     * @param operator    extra client settings, each under its Kafka name
     */
    public static Map<String, Object> producer(String bootstrapServers, String clientId, int lingerMs, Duration sendTimeout,
                                               Map<String, ?> operator) {
        Map<String, Object> config = new HashMap<>(operator);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        if (clientId != null) {
            config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        }
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        if (sendTimeout != null) {
            int ms = Math.toIntExact(sendTimeout.toMillis());
            config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, ms);
            config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
            config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, ms);
        }
        return config;
    }
}
