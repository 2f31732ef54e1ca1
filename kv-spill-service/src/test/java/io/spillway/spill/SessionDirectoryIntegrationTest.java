package io.spillway.spill;

import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/** The session directory on a real in-process KRaft broker and the embedded registry, through the HTTP API. */
class SessionDirectoryIntegrationTest {
    private static final String TOPIC = "spillway.sessions";
    /** The listing test has a topic of its own, so the other test's sessions do not show up in its pages. */
    private static final String LISTING_TOPIC = "spillway.sessions.listing";
    private static final String TOKEN = "directory-test-token";
    private static EmbeddedKafkaKraftBroker kafka;
    private static EmbeddedSchemaRegistry registry;
    private static KafkaProducer<String, SessionState> worker;

    private final HttpClient http = HttpClient.newHttpClient();
    private String topic = TOPIC;

    @TempDir
    Path dir;

    @BeforeAll
    static void startKafka() {
        kafka = new EmbeddedKafkaKraftBroker(1, 2);
        kafka.afterPropertiesSet();
        Map<String, String> compacted = Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT);
        kafka.addTopics(new NewTopic(TOPIC, 2, (short) 1).configs(compacted), new NewTopic(LISTING_TOPIC, 2, (short) 1).configs(compacted));
        registry = EmbeddedSchemaRegistry.start(0);
        SpillwayAvroSerializer<SessionState> values = new SpillwayAvroSerializer<>();
        values.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        worker = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokersAsString()), new StringSerializer(), values);
    }

    @AfterAll
    static void stopKafka() {
        worker.close();
        registry.close();
        kafka.destroy();
    }

    @Test
    void servesTheNewestStateOfEachSessionAndRecordsDeletions() throws Exception {
        topic = LISTING_TOPIC;
        try (ConfigurableApplicationContext service = start("--spillway.spill.dir=" + dir, "--spillway.spill.ttl=3s")) {
            String base = baseUrl(service);
            assertThat(send(base, "/v1/spills/d1", "PUT", "spilled cache").statusCode()).isEqualTo(201);
            Instant spilledAt = Instant.now();
            publish(SessionDirectoryTopologyTest.state("d1", SessionStatus.HOT, 1));
            publish(SessionDirectoryTopologyTest.state("d1", SessionStatus.SPILLED, 2));
            publish(SessionDirectoryTopologyTest.state("d1", SessionStatus.HOT, 1)); // a stale worker
            publish(SessionDirectoryTopologyTest.state("d2", SessionStatus.HOT, 1));
            publish(withWorker(SessionDirectoryTopologyTest.state("d3", SessionStatus.HOT, 1), "worker-b"));

            HttpResponse<String> d3 = await(base, "/v1/sessions/d3", r -> r.statusCode() == 200);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/actuator/health/sessionDirectory")).build(), BodyHandlers.ofString()).body())
                    .contains("\"status\":\"UP\"");
            assertThat(d3.body()).contains("\"sessionId\":\"d3\"", "\"state\":\"HOT\"", "\"workerId\":\"worker-b\"", "\"version\":1");
            HttpResponse<String> d1 = get(base, "/v1/sessions/d1");
            assertThat(d1.statusCode()).isEqualTo(200);
            assertThat(d1.body()).contains("\"state\":\"SPILLED\"", "\"version\":2", "\"location\":\"http://spill:8083/v1/spills/d1\"",
                    "\"tokenCount\":100", "\"bytes\":4096");
            assertThat(get(base, "/v1/sessions/unknown").statusCode()).isEqualTo(404);

            assertThat(get(base, "/v1/sessions?worker=worker-b").body()).contains("\"d3\"").doesNotContain("\"d1\"", "\"d2\"");
            HttpResponse<String> first = get(base, "/v1/sessions?limit=2");
            assertThat(first.body()).contains("\"sessionId\":\"d1\"", "\"sessionId\":\"d2\"", "\"next\":\"d2\"");
            assertThat(get(base, "/v1/sessions?limit=2&after=d2").body()).contains("\"sessionId\":\"d3\"", "\"next\":null");
            assertThat(get(base, "/v1/sessions?limit=0").statusCode()).isEqualTo(400);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/v1/sessions/d1")).build(), BodyHandlers.discarding()).statusCode())
                    .isEqualTo(401);

            // Deleting the spill marks the SPILLED session DELETED, one version up.
            assertThat(send(base, "/v1/spills/d1", "DELETE", null).statusCode()).isEqualTo(204);
            HttpResponse<String> deleted = await(base, "/v1/sessions/d1", r -> r.statusCode() == 404);
            assertThat(deleted.body()).contains("\"state\":\"DELETED\"", "\"version\":3");
            assertThat(get(base, "/v1/sessions?limit=10").body()).doesNotContain("\"d1\"");

            // So does the TTL sweep; a HOT session whose old spill expires stays HOT.
            assertThat(send(base, "/v1/spills/d4", "PUT", "to expire").statusCode()).isEqualTo(201);
            assertThat(send(base, "/v1/spills/d2", "PUT", "older than the hot cache").statusCode()).isEqualTo(201);
            publish(SessionDirectoryTopologyTest.state("d4", SessionStatus.SPILLED, 7));
            await(base, "/v1/sessions/d4", r -> r.statusCode() == 200);
            // Past the 3 s TTL of the d4 and d2 spills.
            Thread.sleep(Math.max(0, Duration.between(Instant.now(), spilledAt.plusSeconds(4)).toMillis()));
            service.getBean(SpillSweeper.class).sweep();
            assertThat(send(base, "/v1/spills/d4", "GET", null).statusCode()).isEqualTo(404);
            assertThat(await(base, "/v1/sessions/d4", r -> r.statusCode() == 404).body()).contains("\"version\":8");
            assertThat(get(base, "/v1/sessions/d2").body()).contains("\"state\":\"HOT\"", "\"version\":1");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"filesystem", "s3"})
    void aRestartLosesNothing(String storeKind) throws Exception {
        String session = "restart-" + storeKind;
        byte[] blob = SpillStoreContractTest.randomBytes(3 * 1024 * 1024, 5);
        try (S3TestServer s3 = new S3TestServer(dir.resolve("s3"))) {
            List<String> args = new ArrayList<>(List.of("--spillway.spill.store=" + storeKind, "--spillway.spill.dir=" + dir.resolve("spills"),
                    "--spillway.spill.s3.bucket=" + S3TestServer.BUCKET, "--spillway.spill.s3.endpoint=" + s3.endpoint(),
                    "--spillway.spill.s3.path-style-access=true", "--spillway.spill.s3.access-key=" + S3TestServer.ACCESS_KEY,
                    "--spillway.spill.s3.secret-key=" + S3TestServer.SECRET_KEY));
            String sha;
            try (ConfigurableApplicationContext before = start(args.toArray(String[]::new))) {
                String base = baseUrl(before);
                HttpResponse<String> put = http.send(authorized(base + "/v1/spills/" + session).header("If-Match", "0")
                        .PUT(BodyPublishers.ofByteArray(blob)).build(), BodyHandlers.ofString());
                assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
                sha = SpillStoreContractTest.sha256(blob);
                publish(SessionDirectoryTopologyTest.state(session, SessionStatus.SPILLED, 4));
                await(base, "/v1/sessions/" + session, r -> r.statusCode() == 200);
                // Last in the log but stale: the rebuild must apply the version rule too, not just take the last record.
                publish(SessionDirectoryTopologyTest.state(session, SessionStatus.HOT, 3));
            }
            try (ConfigurableApplicationContext after = start(args.toArray(String[]::new))) {
                String base = baseUrl(after);
                HttpResponse<byte[]> got = http.send(authorized(base + "/v1/spills/" + session).GET().build(), BodyHandlers.ofByteArray());
                assertThat(got.statusCode()).isEqualTo(200);
                assertThat(got.body()).isEqualTo(blob);
                assertThat(got.headers().firstValue("X-Spill-Sha256")).hasValue(sha);
                assertThat(got.headers().firstValue("ETag")).hasValue("\"1\"");
                // Rebuilt from the topic: 503 while the store loads, then the entry as it was.
                HttpResponse<String> entry = await(base, "/v1/sessions/" + session, r -> r.statusCode() != 503);
                assertThat(entry.statusCode()).isEqualTo(200);
                assertThat(entry.body()).contains("\"state\":\"SPILLED\"", "\"version\":4");
            }
        }
    }

    private ConfigurableApplicationContext start(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--server.port=0", "--spillway.spill.tokens=" + TOKEN, "--spillway.spill.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--spillway.spill.kafka.schema-registry-url=" + registry.url(), "--spillway.spill.kafka.sessions-topic=" + topic));
        return new SpringApplicationBuilder(SpillApplication.class).run(all.toArray(String[]::new));
    }

    private static String baseUrl(ConfigurableApplicationContext service) {
        return "http://localhost:" + service.getEnvironment().getProperty("local.server.port");
    }

    private void publish(SessionState state) throws Exception {
        worker.send(new ProducerRecord<>(topic, state.getSessionId(), state)).get();
    }

    private static SessionState withWorker(SessionState state, String workerId) {
        return SessionState.newBuilder(state).setWorkerId(workerId).build();
    }

    private HttpRequest.Builder authorized(String url) {
        return HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + TOKEN);
    }

    private HttpResponse<String> get(String base, String path) throws Exception {
        return http.send(authorized(base + path).GET().build(), BodyHandlers.ofString());
    }

    private HttpResponse<String> send(String base, String path, String method, String body) throws Exception {
        HttpRequest.Builder request = authorized(base + path).header("If-Match", "0");
        return http.send(request.method(method, body == null ? BodyPublishers.noBody() : BodyPublishers.ofString(body)).build(), BodyHandlers.ofString());
    }

    /** Polls until {@code done} holds (the directory follows the topic asynchronously), for at most 30 s. */
    private HttpResponse<String> await(String base, String path, Predicate<HttpResponse<String>> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        HttpResponse<String> response = get(base, path);
        while (!done.test(response) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            response = get(base, path);
        }
        assertThat(done).as(path + " answered " + response.statusCode() + " " + response.body()).accepts(response);
        return response;
    }
}
