package io.spillway.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.JobStatus;
import io.spillway.schemas.SummarizationJob;
import io.spillway.schemas.SummarizationResult;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Summarization jobs end to end with tiny-llama on the CPU worker: a document of several chunks is
 * summarized through Kafka Streams and the normal request path; a job survives a gateway restart
 * mid-way, a redelivered job gives no second result, and of two gateways either answers for any job.
 */
class JobsEndToEndTest {
    private static final String KEY = "sk-jobs";
    private static final String OTHER = "sk-other";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String[] SMALL_CHUNKS = {"--spillway.jobs.chunk-tokens=96", "--spillway.jobs.overlap-tokens=8",
            "--spillway.jobs.partial-summary-tokens=16", "--spillway.jobs.commit-interval=100ms"};

    @TempDir
    static Path data;
    private static TestServices services;
    private static ConfigurableApplicationContext worker;

    @BeforeAll
    static void start() {
        services = new TestServices(2);
        worker = services.worker("w-jobs", "--spillway.worker.kv=rotatekv2");
    }

    @AfterAll
    static void stop() {
        worker.close();
        services.close();
    }

    private static ConfigurableApplicationContext gateway(String stateDir, String... extra) {
        List<String> args = new ArrayList<>(List.of(SMALL_CHUNKS));
        args.add("--spillway.jobs.state-dir=" + data.resolve(stateDir));
        args.addAll(List.of(extra));
        return services.gateway(KEY + ":jobs," + OTHER + ":other", args.toArray(String[]::new));
    }

    /**
     * A gateway advertising the port it listens on, which must be known before it starts: a port found free may be
     * taken again before the gateway binds it (CI saw it), so a start that lost its port tries another.
     */
    private static ConfigurableApplicationContext advertisingGateway(String stateDir) throws java.io.IOException {
        for (int attempt = 1; ; attempt++) {
            int port;
            try (var socket = new java.net.ServerSocket(0)) {
                port = socket.getLocalPort();
            }
            try {
                return gateway(stateDir, "--server.port=" + port, "--spillway.jobs.advertised-endpoint=localhost:" + port);
            } catch (RuntimeException e) {
                if (attempt == 5 || !lostPort(e)) {
                    throw e;
                }
            }
        }
    }

    private static boolean lostPort(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof org.springframework.boot.web.server.PortInUseException) {
                return true;
            }
        }
        return false;
    }

    private static String document(int sentences) {
        return IntStream.range(0, sentences).mapToObj(i -> "Tom the fox found " + (i + 2) + " red apples under the old tree by the river.")
                .collect(Collectors.joining(" "));
    }

    private static HttpResponse<String> http(ConfigurableApplicationContext gateway, String method, String path, String key, String body)
            throws Exception {
        var b = HttpRequest.newBuilder(URI.create("http://localhost:" + TestServices.port(gateway) + path))
                .header("Authorization", "Bearer " + key).header("Content-Type", "application/json");
        b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody()) : b.method(method, HttpRequest.BodyPublishers.ofString(body));
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String submit(ConfigurableApplicationContext gateway, String document) throws Exception {
        var r = http(gateway, "POST", "/v1/jobs", KEY, JSON.writeValueAsString(Map.of("document", document, "target_words", 20)));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        return JSON.readTree(r.body()).get("id").asText();
    }

    /** Polls the job until {@code until} holds; a 404 (not yet seen) or 503 (store restoring) is polled again. */
    private static JsonNode await(ConfigurableApplicationContext gateway, String id, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
        JsonNode last = null;
        String lastAnswer = null;
        while (System.nanoTime() < deadline) {
            var r = http(gateway, "GET", "/v1/jobs/" + id, KEY, null);
            lastAnswer = r.statusCode() + " " + r.body();
            if (r.statusCode() == 200) {
                last = JSON.readTree(r.body());
                if (until.test(last)) {
                    return last;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " did not get there in time; last seen " + last + ", last answer " + lastAnswer);
    }

    private static List<SummarizationResult> results(String jobId) {
        var d = new SpillwayAvroDeserializer<>(SummarizationResult.class);
        d.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, services.registry.url()), false);
        List<SummarizationResult> out = new ArrayList<>();
        try (var c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka.getBrokersAsString(),
                ConsumerConfig.GROUP_ID_CONFIG, "results-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"), new StringDeserializer(), d)) {
            c.subscribe(List.of(EmbeddedSpillway.SUMMARIES));
            // Until the DONE result, then a little longer: a second one would follow soon after.
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            long quiet = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, quiet)) {
                c.poll(Duration.ofMillis(200)).forEach(r -> {
                    if (r.key().equals(jobId)) {
                        out.add(r.value());
                    }
                });
                if (quiet == Long.MAX_VALUE && out.stream().anyMatch(r -> r.getStatus() != JobStatus.RUNNING)) {
                    quiet = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                }
            }
        }
        return out;
    }

    @Test
    void aMultiChunkDocumentIsSummarizedOnceEvenWhenItsJobIsSentAgain() throws Exception {
        var gateway = gateway("state-1");
        try {
            String document = document(30);
            String id = submit(gateway, document);
            JsonNode done = await(gateway, id, j -> !j.get("status").asText().equals("running"));
            assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("done");
            assertThat(done.get("summary").asText()).isNotBlank();
            assertThat(done.get("chunks_total").asInt()).isGreaterThan(3).isEqualTo(done.get("chunks_done").asInt());
            assertThat(http(gateway, "GET", "/v1/jobs/" + id, OTHER, null).statusCode()).as("another key's job").isEqualTo(404);
            var bad = http(gateway, "POST", "/v1/jobs", KEY, JSON.writeValueAsString(Map.of("document", document, "target_words", 2)));
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(JSON.readTree(bad.body()).get("error").get("param").asText()).isEqualTo("target_words");
            assertThat(JSON.readTree(bad.body()).get("error").get("message").asText()).startsWith("'target_words' must be between");

            // The same job published again, straight to the topic: no second result.
            var serializer = new SpillwayAvroSerializer<SummarizationJob>();
            serializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, services.registry.url()), false);
            try (var p = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, services.kafka.getBrokersAsString()),
                    new StringSerializer(), serializer)) {
                p.send(new ProducerRecord<>(EmbeddedSpillway.JOBS, id, new SummarizationJob(id, document, null, 20, null, "x", 0L))).get();
            }
            List<SummarizationResult> results = results(id);
            assertThat(results).filteredOn(r -> r.getStatus() == JobStatus.DONE).hasSize(1);
            assertThat(results).filteredOn(r -> r.getStatus() == JobStatus.RUNNING).extracting(SummarizationResult::getChunksDone)
                    .isSorted();
        } finally {
            gateway.close();
        }
    }

    @Test
    void aJobSurvivesAGatewayRestartMidWay() throws Exception {
        var first = gateway("state-2");
        String id = submit(first, document(40));
        await(first, id, j -> j.get("chunks_done").asInt() >= 1);
        first.close();
        var second = gateway("state-2-elsewhere");
        try {
            JsonNode done = await(second, id, j -> !j.get("status").asText().equals("running"));
            assertThat(done.get("status").asText()).as(done.toString()).isEqualTo("done");
            assertThat(results(id)).filteredOn(r -> r.getStatus() == JobStatus.DONE).hasSize(1);
        } finally {
            second.close();
        }
    }

    @Test
    void theCliSubmitsAFileShowsProgressAndPrintsTheSummary() throws Exception {
        var gateway = gateway("state-3");
        try {
            Path file = data.resolve("story.txt");
            java.nio.file.Files.writeString(file, document(12));
            String url = "http://localhost:" + TestServices.port(gateway);
            var out = new java.io.ByteArrayOutputStream();
            var err = new java.io.ByteArrayOutputStream();
            int status = new SummarizeCommand(new java.io.PrintStream(out, true), new java.io.PrintStream(err, true))
                    .run(new String[] {file.toString(), "--url", url, "--api-key", KEY, "--target-words", "20"});
            assertThat(status).as(err.toString()).isZero();
            assertThat(out.toString()).isNotBlank();
            assertThat(err.toString()).contains("story.txt [").contains("done");

            err.reset();
            status = new SummarizeCommand(new java.io.PrintStream(out, true), new java.io.PrintStream(err, true))
                    .run(new String[] {file.toString(), "--url", url, "--api-key", "sk-wrong"});
            assertThat(status).isEqualTo(1);
            assertThat(err.toString()).contains("401");
        } finally {
            gateway.close();
        }
    }

    /** A job id on each of the jobs topic's 2 partitions, as the producer's default partitioner places them. */
    private static Map<Integer, String> idPerPartition() {
        Map<Integer, String> ids = new java.util.HashMap<>();
        for (int i = 0; ids.size() < 2; i++) {
            String id = "across-" + i;
            ids.putIfAbsent(org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
                    id.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % 2, id);
        }
        return ids;
    }

    /** Behind a load balancer a status request reaches any gateway: each advertises itself, so any of them answers. */
    @Test
    void eitherOfTwoGatewaysAnswersForJobsTheOtherHolds() throws Exception {
        var a = advertisingGateway("state-4a");
        var b = advertisingGateway("state-4b");
        int[] ports = {Integer.parseInt(TestServices.port(a)), Integer.parseInt(TestServices.port(b))};
        try {
            Map<Integer, String> ids = idPerPartition();
            for (String id : ids.values()) {
                var r = http(a, "POST", "/v1/jobs", KEY, JSON.writeValueAsString(Map.of("id", id, "document", document(2), "target_words", 20)));
                assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
            }
            for (String id : ids.values()) {
                await(a, id, j -> j.get("status").asText().equals("done"));
                await(b, id, j -> j.get("status").asText().equals("done"));
            }
            // Each gateway holds one of the two partitions, so each answered one job by asking the other.
            var flow = a.getBean("jobStreams", org.apache.kafka.streams.KafkaStreams.class);
            assertThat(ids.values()).extracting(id -> flow.queryMetadataForKey("jobs", id,
                    org.apache.kafka.common.serialization.Serdes.String().serializer()).activeHost().port())
                    .containsExactlyInAnyOrder(ports[0], ports[1]);
            assertThat(http(b, "GET", "/v1/jobs/" + ids.get(0), OTHER, null).statusCode()).as("another key's job").isEqualTo(404);
            assertThat(http(b, "GET", "/v1/jobs/" + ids.get(1), OTHER, null).statusCode()).as("another key's job").isEqualTo(404);
        } finally {
            b.close();
            a.close();
        }
    }
}
