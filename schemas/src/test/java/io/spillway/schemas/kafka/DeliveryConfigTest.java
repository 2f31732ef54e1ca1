package io.spillway.schemas.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeliveryConfigTest {
    @Test
    void operatorSettingsComeAlongButCannotWeakenDelivery() {
        Map<String, Object> c = DeliveryConfig.producer("k:9092", "gw", 0, Duration.ofSeconds(5),
                Map.of("security.protocol", "SASL_SSL", "acks", "1", "enable.idempotence", "false", "linger.ms", "50",
                        "bootstrap.servers", "other:9092"));

        assertThat(c).containsEntry("security.protocol", "SASL_SSL").containsEntry("acks", "all")
                .containsEntry("enable.idempotence", true).containsEntry("linger.ms", 0)
                .containsEntry("bootstrap.servers", "k:9092").containsEntry("client.id", "gw")
                .containsEntry("max.block.ms", 5000).containsEntry("request.timeout.ms", 5000)
                .containsEntry("delivery.timeout.ms", 5000);
    }

    @Test
    void withoutASendTimeoutTheClientsOwnTimeoutsStand() {
        Map<String, Object> c = DeliveryConfig.producer("k:9092", null, 2, null, Map.of("delivery.timeout.ms", "60000"));

        assertThat(c).doesNotContainKeys("client.id", "max.block.ms", "request.timeout.ms")
                .containsEntry("delivery.timeout.ms", "60000").containsEntry("linger.ms", 2);
    }
}
