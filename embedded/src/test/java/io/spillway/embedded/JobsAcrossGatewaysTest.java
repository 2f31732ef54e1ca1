package io.spillway.embedded;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two gateways of one deployment split the job flow's partitions; each advertises itself, so a job's
 * status is answered by whichever gateway the request reaches (behind a load balancer, any of them).
 */
class JobsAcrossGatewaysTest {
    private static final String KEY = "sk-jobs";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;
    private static TestServices services;
    private static ConfigurableApplicationContext worker;

    @BeforeAll
    static void start() {
        services = new TestServices(2);
        worker = services.worker("w-across", "--spillway.worker.kv=rotatekv2");
    }

    @AfterAll
    static void stop() {
        worker.close();
        services.close();
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static ConfigurableApplicationContext gateway(String name, int port) {
        return services.gateway(KEY + ":jobs", "--server.port=" + port, "--spillway.jobs.advertised-endpoint=localhost:" + port,
                "--spillway.jobs.state-dir=" + data.resolve(name), "--spillway.jobs.commit-interval=100ms");
    }

    private static HttpResponse<String> http(int port, String method, String path, String body) throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json");
        b = body == null ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A job id on each of the jobs topic's 2 partitions, as the producer's default partitioner places them. */
    private static Map<Integer, String> idPerPartition() {
        Map<Integer, String> ids = new HashMap<>();
        for (int i = 0; ids.size() < 2; i++) {
            String id = "across-" + i;
            ids.putIfAbsent(Utils.toPositive(Utils.murmur2(id.getBytes(StandardCharsets.UTF_8))) % 2, id);
        }
        return ids;
    }

    /** Polls a gateway for the job until it is done; a 404 or 503 while the flow starts or rebalances is polled again. */
    private static void awaitDone(int port, String id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            var r = http(port, "GET", "/v1/jobs/" + id, null);
            last = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200 && JSON.readTree(r.body()).get("status").asText().equals("done")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " not done at gateway :" + port + " in time; last answer " + last);
    }

    @Test
    void eitherGatewayAnswersForJobsTheOtherHolds() throws Exception {
        int portA = freePort();
        int portB = freePort();
        var a = gateway("a", portA);
        var b = gateway("b", portB);
        try {
            Map<Integer, String> ids = idPerPartition();
            for (String id : ids.values()) {
                var r = http(portA, "POST", "/v1/jobs", JSON.writeValueAsString(Map.of("id", id, "target_words", 20,
                        "document", "Tom the fox found three red apples under the old tree by the river.")));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            }
            for (String id : ids.values()) {
                awaitDone(portA, id);
                awaitDone(portB, id);
            }
            // Each gateway holds one of the two partitions, so each answered one job by asking the other.
            KafkaStreams flow = a.getBean("jobStreams", KafkaStreams.class);
            assertThat(ids.values()).extracting(id -> flow.queryMetadataForKey("jobs", id, Serdes.String().serializer())
                    .activeHost().port()).containsExactlyInAnyOrder(portA, portB);
            var other = HTTP.send(HttpRequest.newBuilder(URI.create("http://localhost:" + portB + "/v1/jobs/" + ids.get(0)))
                    .header("Authorization", "Bearer sk-nobody").GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(other.statusCode()).isEqualTo(401);
        } finally {
            b.close();
            a.close();
        }
    }
}
