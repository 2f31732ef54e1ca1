package io.spillway.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.engine.cuda.CudaBackend;
import io.spillway.schemas.ChatMessage;
import io.spillway.schemas.DeadLetter;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.RequestKind;
import io.spillway.schemas.SamplingOptions;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The worker against a real in-process Kafka broker and the embedded schema registry. */
class WorkerIntegrationTest {
    private static final String REQUESTS = "spillway.requests";
    private static final String EVENTS = "spillway.events";
    private static final String DLQ = "spillway.requests.dlq";
    private static EmbeddedKafkaKraftBroker kafka;
    private static EmbeddedSchemaRegistry registry;
    private static KafkaProducer<String, SpecificRecord> producer;
    private static JsonNode reference;

    @BeforeAll
    static void start() throws Exception {
        // Each test has a requests topic of its own: a new consumer group reads its topic from the start.
        kafka = new EmbeddedKafkaKraftBroker(1, 3, REQUESTS, REQUESTS + ".handback", REQUESTS + ".chat", REQUESTS + ".gpu-fp16", REQUESTS + ".gpu-rotatekv2", EVENTS, DLQ);
        kafka.afterPropertiesSet();
        registry = EmbeddedSchemaRegistry.start(0);
        SpillwayAvroSerializer<SpecificRecord> serializer = new SpillwayAvroSerializer<>();
        serializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokersAsString()), new StringSerializer(), serializer);
        reference = new ObjectMapper().readTree(Files.readString(modelDir().resolve("reference.json")));
    }

    @AfterAll
    static void stop() {
        producer.close();
        registry.close();
        kafka.destroy();
    }

    static Path modelDir() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(dir.resolve("models/tiny-llama"))) {
            dir = dir.getParent();
        }
        return dir.resolve("models/tiny-llama");
    }

    private static ConfigurableApplicationContext worker(String id, String... extra) {
        List<String> args = new ArrayList<>(List.of("--server.port=0", "--spillway.worker.model=" + modelDir(),
                "--spillway.worker.worker-id=" + id, "--spillway.worker.kafka.bootstrap-servers=" + kafka.getBrokersAsString(),
                "--spillway.worker.kafka.schema-registry-url=" + registry.url(), "--spillway.worker.kafka.commit-interval=200ms",
                "--logging.level.org.apache.kafka=warn"));
        args.addAll(List.of(extra));
        return new SpringApplication(WorkerApplication.class).run(args.toArray(String[]::new));
    }

    static InferenceRequest completion(String session, String prompt, int maxTokens, boolean stream, int replyPartition) {
        return InferenceRequest.newBuilder().setRequestId(UUID.randomUUID().toString()).setSessionId(session).setApiKeyId("k1")
                .setModel("tiny-llama").setReplyTopic(EVENTS).setReplyPartition(replyPartition).setCreatedAtMs(System.currentTimeMillis())
                .setKind(RequestKind.COMPLETION).setMessages(List.of()).setPrompt(prompt)
                .setSampling(SamplingOptions.newBuilder().setMaxTokens(maxTokens).setTemperature(0).setTopK(0).setTopP(1).setMinP(0)
                        .setRepetitionPenalty(1).setSeed(null).build())
                .setStream(stream).build();
    }

    private static void send(InferenceRequest r) {
        send(REQUESTS, r);
    }

    private static void send(String topic, InferenceRequest r) {
        producer.send(new ProducerRecord<>(topic, r.getSessionId(), r));
        producer.flush();
    }

    /** Reads events of {@code partition} until every request id has a FINISHED or ERROR event. */
    private static Map<String, List<InferenceEvent>> awaitEnd(int partition, List<String> requestIds, Duration timeout) {
        SpillwayAvroDeserializer<InferenceEvent> d = new SpillwayAvroDeserializer<>(InferenceEvent.class);
        d.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        Map<String, List<InferenceEvent>> byRequest = new HashMap<>();
        try (var c = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokersAsString()), new StringDeserializer(), d)) {
            TopicPartition tp = new TopicPartition(EVENTS, partition);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (System.nanoTime() < deadline && !requestIds.stream().allMatch(id -> ended(byRequest.get(id)))) {
                for (var rec : c.poll(Duration.ofMillis(200))) {
                    if (requestIds.contains(rec.value().getRequestId())) {
                        byRequest.computeIfAbsent(rec.value().getRequestId(), k -> new ArrayList<>()).add(rec.value());
                    }
                }
            }
        }
        return byRequest;
    }

    private static boolean ended(List<InferenceEvent> events) {
        return events != null && events.stream().anyMatch(e -> e.getType() == EventType.FINISHED || e.getType() == EventType.ERROR);
    }

    private static String text(List<InferenceEvent> events) {
        StringBuilder b = new StringBuilder();
        events.stream().filter(e -> e.getType() == EventType.DELTA).forEach(e -> b.append(e.getDeltaText()));
        return b.toString();
    }

    private static InferenceEvent last(List<InferenceEvent> events) {
        return events.getLast();
    }

    @Test
    void requestsAreServedBatchedAndPoisonGoesToTheDeadLetterTopic() throws Exception {
        try (var ctx = worker("w1", "--spillway.worker.kv=fp32")) {
            // Garbage first: it must not block the partition.
            try (var raw = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokersAsString()),
                    new StringSerializer(), new ByteArraySerializer())) {
                raw.send(new ProducerRecord<>(REQUESTS, "s-poison", "{\"not\": \"avro\"}".getBytes())).get();
            }
            JsonNode p = reference.get("prompts").get(0);
            InferenceRequest exact = completion("s-exact", p.get("text").asText(), 32, true, 0);
            InferenceRequest wrongModel = completion("s-wrong", "hello", 4, true, 0);
            wrongModel.setModel("gpt-4");
            send(exact);
            send(wrongModel);
            List<InferenceRequest> many = IntStream.range(0, 20).mapToObj(i -> completion("s-" + i, "The whale " + i, 12, i % 2 == 0, 1)).toList();
            many.forEach(r -> producer.send(new ProducerRecord<>(REQUESTS, r.getSessionId(), r)));
            producer.flush();

            var events = awaitEnd(0, List.of(exact.getRequestId(), wrongModel.getRequestId()), Duration.ofSeconds(60));
            List<InferenceEvent> e = events.get(exact.getRequestId());
            assertThat(e.getFirst().getType()).isEqualTo(EventType.STARTED);
            assertThat(e).extracting(InferenceEvent::getSeq).containsExactlyElementsOf(IntStream.range(0, e.size()).boxed().toList());
            assertThat(text(e)).isEqualTo(p.get("greedy_text").asText());
            assertThat(last(e).getFinishReason()).isEqualTo("length");
            assertThat(last(e).getUsage().getPromptTokens()).isEqualTo(p.get("input_ids").size());
            assertThat(last(e).getUsage().getCompletionTokens()).isEqualTo(32);
            assertThat(last(events.get(wrongModel.getRequestId())).getError().getCode()).isEqualTo("model_not_found");

            var manyEvents = awaitEnd(1, many.stream().map(InferenceRequest::getRequestId).toList(), Duration.ofSeconds(120));
            for (InferenceRequest r : many) {
                assertThat(last(manyEvents.get(r.getRequestId())).getType()).as(r.getSessionId()).isEqualTo(EventType.FINISHED);
                assertThat(text(manyEvents.get(r.getRequestId()))).isNotEmpty();
            }
            assertThat(ctx.getBean(WorkerMetrics.class).largestBatch()).isGreaterThan(1);

            List<DeadLetter> dead = deadLetters(2);
            assertThat(dead).anySatisfy(d -> assertThat(d.getReason()).startsWith("undecodable"));
            assertThat(dead).anySatisfy(d -> assertThat(d.getReason()).startsWith("model_not_found"));

            var liveness = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                    "http://localhost:" + ctx.getEnvironment().getProperty("local.server.port") + "/actuator/health/liveness")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(liveness.statusCode()).isEqualTo(200);
            assertThat(new ObjectMapper().readTree(liveness.body()).path("components").path("worker").path("status").asText()).isEqualTo("UP");
        }
    }

    private static List<DeadLetter> deadLetters(int atLeast) {
        SpillwayAvroDeserializer<DeadLetter> d = new SpillwayAvroDeserializer<>(DeadLetter.class);
        d.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
        List<DeadLetter> out = new ArrayList<>();
        try (var c = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.getBrokersAsString(),
                ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"),
                new StringDeserializer(), d)) {
            c.subscribe(List.of(DLQ));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (out.size() < atLeast && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(r -> out.add(r.value()));
            }
        }
        return out;
    }

    @Test
    void aRequestHandedBackMidGenerationIsCompletedByAnotherWorker() throws Exception {
        JsonNode p = reference.get("prompts").get(2);
        InferenceRequest r = completion("s-handback", p.get("text").asText(), 200, true, 2);
        String topic = REQUESTS + ".handback";
        var first = worker("w-first", "--spillway.worker.kv=fp32", "--spillway.worker.drain-timeout=0s",
                "--spillway.worker.kafka.group-id=handback", "--spillway.worker.kafka.requests-topic=" + topic);
        send(topic, r);
        // Wait until the first worker is generating, then stop it without letting it finish.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (first.getBean(OffsetTracker.class).inFlight() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(first.getBean(OffsetTracker.class).inFlight()).isEqualTo(1);
        first.close();
        try (var second = worker("w-second", "--spillway.worker.kv=fp32", "--spillway.worker.kafka.group-id=handback",
                "--spillway.worker.kafka.requests-topic=" + topic)) {
            var events = awaitEnd(2, List.of(r.getRequestId()), Duration.ofSeconds(120)).get(r.getRequestId());
            InferenceEvent end = last(events);
            assertThat(end.getType()).as("events %s", events.stream().map(e -> e.getWorkerId() + ":" + e.getType() + ":" + e.getSeq()).toList())
                    .isEqualTo(EventType.FINISHED);
            assertThat(end.getWorkerId()).isEqualTo("w-second");
            assertThat(end.getUsage().getCompletionTokens()).isEqualTo(200);
            assertThat(events).noneMatch(e -> e.getWorkerId().equals("w-first") && e.getType() == EventType.FINISHED);
            // The second worker's stream alone is the whole answer, seq 0 to the end.
            List<InferenceEvent> fromSecond = events.stream().filter(e -> e.getWorkerId().equals("w-second")).toList();
            assertThat(fromSecond.getFirst().getSeq()).isZero();
            assertThat(text(fromSecond)).startsWith(p.get("greedy_text").asText());
        }
    }

    @Test
    void chatRequestsUseTheTemplateAndSessionsReuseTheirCache() {
        String topic = REQUESTS + ".chat";
        try (var ctx = worker("w-chat", "--spillway.worker.kafka.group-id=chat", "--spillway.worker.kafka.requests-topic=" + topic)) {
            InferenceRequest r = completion("s-chat", null, 8, false, 0);
            r.setKind(RequestKind.CHAT);
            r.setPrompt(null);
            r.setMessages(List.of(new ChatMessage("user", "Tell me about the sea.")));
            send(topic, r);
            var e = awaitEnd(0, List.of(r.getRequestId()), Duration.ofSeconds(60)).get(r.getRequestId());
            assertThat(e).extracting(InferenceEvent::getType).containsExactly(EventType.STARTED, EventType.DELTA, EventType.FINISHED);
            assertThat(last(e).getUsage().getCompletionTokens()).isBetween(1, 8);
        }
    }

    /**
     * On a GPU (skipped elsewhere, with the reason): the worker serves requests through Kafka on the CUDA backend,
     * fp16 and 2-bit KV, greedy text equal to transformers' reference, several sequences decoding in one batch.
     */
    @Test
    void onAGpuTheWorkerServesRequestsThroughKafkaOnTheCudaBackend() {
        StringBuilder why = new StringBuilder();
        try (var device = CudaBackend.tryOpen(why::append).orElse(null)) {
            assumeTrue(device != null, "skipped: " + why);
        }
        JsonNode p = reference.get("prompts").get(0);
        int partition = 0;
        for (String kv : List.of("fp16", "rotatekv2")) {
            String topic = REQUESTS + ".gpu-" + kv;
            try (var ctx = worker("w-gpu-" + kv, "--spillway.worker.backend=cuda", "--spillway.worker.kv=" + kv,
                    "--spillway.worker.kafka.group-id=gpu-" + kv, "--spillway.worker.kafka.requests-topic=" + topic)) {
                assertThat(ctx.getBean(io.spillway.engine.backend.LoadedModel.class).backend()).isEqualTo("cuda");
                InferenceRequest exact = completion("s-gpu-" + kv, p.get("text").asText(), 32, true, partition);
                // Long enough to be still decoding when the last of them joins, even on a GPU.
                List<InferenceRequest> batch = IntStream.range(0, 8)
                        .mapToObj(i -> completion("s-gpu-" + kv + "-" + i, "The whale " + i, 160, false, partition)).toList();
                send(topic, exact);
                batch.forEach(r -> producer.send(new ProducerRecord<>(topic, r.getSessionId(), r)));
                producer.flush();
                List<String> ids = new ArrayList<>(List.of(exact.getRequestId()));
                batch.forEach(r -> ids.add(r.getRequestId()));
                var events = awaitEnd(partition, ids, Duration.ofSeconds(120));
                assertThat(text(events.get(exact.getRequestId()))).as(kv).isEqualTo(p.get("greedy_text").asText());
                for (InferenceRequest r : batch) {
                    assertThat(last(events.get(r.getRequestId())).getUsage().getCompletionTokens()).as(kv + " " + r.getSessionId()).isBetween(1, 160);
                }
                assertThat(ctx.getBean(WorkerMetrics.class).largestBatch()).as(kv).isGreaterThan(1);
            }
        }
    }

    @Test
    void aBackendThatCannotRunStopsTheWorkerAtStartupWithTheReason() {
        assertThatThrownBy(() -> worker("w-bad", "--spillway.worker.backend=gpu").close())
                .rootCause().hasMessageContaining("backend must be cpu, cuda or auto, got 'gpu'");
        assertThatThrownBy(() -> worker("w-bad", "--spillway.worker.backend=cuda", "--spillway.worker.kv=kivi2").close())
                .rootCause().hasMessageContaining("backend cuda cannot run kv kivi2").hasMessageContaining("per-channel keys run on the CPU");
        assertThatThrownBy(() -> worker("w-bad", "--spillway.worker.max-context=-1").close())
                .rootCause().hasMessageContaining("max-context must be 0");
    }
}
