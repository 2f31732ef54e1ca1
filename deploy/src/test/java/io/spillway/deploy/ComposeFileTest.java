package io.spillway.deploy;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** docker-compose.yml parses, and every service names its image and how Compose knows it is up or done. */
class ComposeFileTest {

    private static final Set<String> ONE_SHOT = Set.of("kafka-init", "s3-init");
    private static Map<String, Map<String, Object>> services;
    private static String text;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void parse() throws IOException {
        text = Files.readString(Repo.root().resolve("docker-compose.yml"));
        Map<String, Object> compose = new Yaml().load(text);
        services = (Map<String, Map<String, Object>>) compose.get("services");
    }

    @Test
    void runsKafkaRegistryObjectStoreAndTheThreeServices() {
        assertThat(services).containsOnlyKeys("kafka", "kafka-init", "registry", "s3", "s3-init", "spill", "gateway", "worker",
                "worker-cpu");
        assertThat(image("kafka")).contains("apache/kafka:");
        assertThat(image("registry")).contains("apicurio/apicurio-registry:");
        assertThat(image("s3")).contains("seaweedfs");
        assertThat(image("gateway")).contains("/gateway-service:");
        assertThat(image("spill")).contains("/kv-spill-service:");
        assertThat(image("worker")).contains("/inference-worker:").isEqualTo(image("worker-cpu"));
    }

    @Test
    void everyLongRunningServiceHasAHealthCheckAndEveryImageIsPinned() {
        services.forEach((name, service) -> {
            assertThat(image(name)).as(name).doesNotContain(":latest").matches(".*:[^:/]+\\}?$");
            if (ONE_SHOT.contains(name)) {
                assertThat(service).as(name).containsEntry("restart", "no");
            } else {
                assertThat(healthTest(name)).as(name).isNotEmpty();
            }
        });
        assertThat(String.join(" ", healthTest("gateway"))).contains("/dev/tcp/127.0.0.1/8080", "/actuator/health", " 200 ");
        assertThat(String.join(" ", healthTest("spill"))).contains("/dev/tcp/127.0.0.1/8083");
        assertThat(String.join(" ", healthTest("worker"))).contains("/dev/tcp/127.0.0.1/8082");
        assertThat(String.join(" ", healthTest("registry"))).contains("/apis/ccompat/v7/");
    }

    @Test
    @SuppressWarnings("unchecked")
    void servicesStartAfterTopicsRegistryAndBucketExist() {
        for (String name : List.of("gateway", "spill", "worker", "worker-cpu")) {
            Map<String, Map<String, String>> dependsOn = (Map<String, Map<String, String>>) services.get(name).get("depends_on");
            assertThat(dependsOn).as(name).containsEntry("kafka-init", Map.of("condition", "service_completed_successfully"))
                    .containsEntry("registry", Map.of("condition", "service_healthy"));
            dependsOn.keySet().forEach(dependency -> assertThat(services).as(name + " depends on").containsKey(dependency));
        }
        assertThat((Map<String, Object>) services.get("spill").get("depends_on")).containsKey("s3-init");
        String topics = String.join("\n", (List<String>) services.get("kafka-init").get("command"));
        assertThat(topics).contains("spillway.requests ", "spillway.events ", "spillway.requests.dlq ", "spillway.jobs ",
                "spillway.summaries ", "spillway.job-events ", "spillway.jobs.dlq ", "spillway.sessions --partitions \"$$PARTITIONS\" --config cleanup.policy=compact");
    }

    @Test
    @SuppressWarnings("unchecked")
    void workerReservesGpusAndTheCpuProfileRunsWithout() {
        Map<String, Object> reservations = (Map<String, Object>) ((Map<String, Object>) ((Map<String, Object>) services.get("worker")
                .get("deploy")).get("resources")).get("reservations");
        Map<String, Object> device = ((List<Map<String, Object>>) reservations.get("devices")).getFirst();
        // One GPU: the engine uses one, so more would sit idle.
        assertThat(device).containsEntry("driver", "nvidia").containsEntry("capabilities", List.of("gpu"))
                .containsEntry("count", "${SPILLWAY_GPUS:-1}");
        assertThat(services.get("worker")).doesNotContainKey("profiles");

        Map<String, Object> cpu = services.get("worker-cpu");
        assertThat(cpu).containsEntry("profiles", List.of("cpu")).doesNotContainKey("deploy");
        assertThat((Map<String, Object>) cpu.get("environment")).containsEntry("NVIDIA_VISIBLE_DEVICES", "void")
                .containsEntry("SPILLWAY_WORKER_KAFKA_BOOTSTRAPSERVERS", "kafka:9092");
    }

    @Test
    @SuppressWarnings("unchecked")
    void servicesReachEachOtherAndTheRegistrysConfluentApi() {
        assertThat((Map<String, Object>) services.get("gateway").get("environment"))
                .containsEntry("SPILLWAY_KAFKA_BOOTSTRAPSERVERS", "kafka:9092")
                .containsEntry("SPILLWAY_SCHEMAREGISTRY_URL", "http://registry:8080/apis/ccompat/v7");
        assertThat((Map<String, Object>) services.get("spill").get("environment")).containsEntry("SPILLWAY_SPILL_STORE", "s3")
                .containsEntry("SPILLWAY_SPILL_S3_ENDPOINT", "http://s3:8333");
        assertThat((List<String>) services.get("gateway").get("ports")).containsExactly("8080:8080");
    }

    private static String image(String service) {
        return (String) services.get(service).get("image");
    }

    @SuppressWarnings("unchecked")
    private static List<String> healthTest(String service) {
        Map<String, Object> healthcheck = (Map<String, Object>) services.get(service).get("healthcheck");
        return healthcheck == null ? List.of() : (List<String>) healthcheck.get("test");
    }
}
