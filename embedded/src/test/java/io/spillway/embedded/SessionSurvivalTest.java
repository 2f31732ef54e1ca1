package io.spillway.embedded;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.spill.SpillApplication;
import io.spillway.worker.WorkerApplication;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A chat session of many turns, through the gateway and Kafka, survives eviction, a worker restart,
 * a rebalance to another worker and a spill-service restart: with greedy sampling every answer equals
 * the one an uninterrupted run gives, and every later turn reuses the restored cache instead of
 * prefilling the history. A damaged spill falls back to prefilling the prompt again.
 */
class SessionSurvivalTest {
    private static final String KEY = "sk-survival";
    private static final String TOKEN = "spill-token";
    private static final List<String> TURNS = List.of("Tell me a story about a fox.", "What did the fox eat?",
            "Where did the fox sleep?", "Who was the fox's friend?", "How did the story end?", "Tell it again, shorter.",
            "Thank you!");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    static Path data;
    private static TestServices services;
    private static ConfigurableApplicationContext gateway;
    private static ConfigurableApplicationContext spill;
    private static int spillPort;

    @BeforeAll
    static void start() {
        services = new TestServices(4);
        spill = spill(0);
        spillPort = Integer.parseInt(TestServices.port(spill));
        gateway = services.gateway(KEY + ":test", "--spillway.jobs.enabled=false");
    }

    @AfterAll
    static void stop() {
        gateway.close();
        spill.close();
        services.close();
    }

    private static ConfigurableApplicationContext spill(int port) {
        return new SpringApplicationBuilder(SpillApplication.class).properties(WorkerApplication.LOGGING).run(
                "--spring.config.name=kv-spill-service", "--server.port=" + port, "--spillway.spill.dir=" + data.resolve("spills"),
                "--spillway.spill.tokens=" + TOKEN);
    }

    private static ConfigurableApplicationContext worker(String id, String kvBudget) {
        return services.worker(id, "--spillway.worker.kv=rotatekv2", "--spillway.worker.kv-budget=" + kvBudget,
                "--spillway.worker.spill.url=http://localhost:" + spillPort, "--spillway.worker.spill.token=" + TOKEN,
                "--spillway.worker.spill.timeout=3s");
    }

    /** One chat of {@link #TURNS}: the history grows with each answer, as a chat client resends it. */
    private static final class Chat {
        final String session;
        final ArrayNode messages = JSON.createArrayNode();
        final List<String> answers = new ArrayList<>();
        final List<Integer> cached = new ArrayList<>();

        Chat(String session) {
            this.session = session;
        }

        String turn(int i) throws IOException, InterruptedException {
            messages.addObject().put("role", "user").put("content", TURNS.get(i));
            JsonNode answer = complete(session, messages);
            String text = answer.at("/choices/0/message/content").asText();
            messages.addObject().put("role", "assistant").put("content", text);
            answers.add(text);
            cached.add(answer.at("/usage/prompt_tokens_details/cached_tokens").asInt());
            return text;
        }
    }

    private static JsonNode complete(String session, ArrayNode messages) throws IOException, InterruptedException {
        ObjectNode body = JSON.createObjectNode().put("model", "tiny-llama").put("temperature", 0).put("max_tokens", 12);
        body.set("messages", messages);
        String api = "http://localhost:" + TestServices.port(gateway) + "/v1/chat/completions";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(api)).header("Authorization", "Bearer " + KEY)
                .header("Content-Type", "application/json").header("X-Session-Id", session)
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The session's newest spill file ({@code <id>.<version>.blob}). */
    private static Path newestSpill(String session) throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("spills"))) {
            return files.filter(f -> f.getFileName().toString().startsWith(session + ".") && f.toString().endsWith(".blob"))
                    .max(Comparator.comparingLong(SessionSurvivalTest::version)).orElseThrow(() -> new AssertionError("no spill of " + session));
        }
    }

    private static long version(Path blob) {
        String[] parts = blob.getFileName().toString().split("\\.");
        return Long.parseLong(parts[parts.length - 2]);
    }

    /** On a fresh worker (the session is not hot), the damaged spill is refused and the prompt prefilled again. */
    private static void damagedSpillFallsBack(Chat chat, int turn) throws Exception {
        ArrayNode next = chat.messages.deepCopy();
        next.addObject().put("role", "user").put("content", TURNS.get(turn));
        try (var w = worker("w-turn-" + turn, "1GB")) {
            String fresh = complete("fresh-" + UUID.randomUUID(), next).at("/choices/0/message/content").asText();
            assertThat(chat.turn(turn)).isEqualTo(fresh);
            assertThat(chat.cached.get(turn)).isZero();
        }
    }

    @Test
    void aLongChatSurvivesEvictionRestartsRebalanceAndDamage() throws Exception {
        Chat reference = new Chat("reference-" + UUID.randomUUID());
        try (var w = worker("w-reference", "1GB")) {
            for (int i = 0; i < TURNS.size(); i++) {
                reference.turn(i);
            }
        }
        assertThat(reference.cached.subList(1, TURNS.size())).allMatch(c -> c > 0);

        Chat chat = new Chat("chat-" + UUID.randomUUID());
        // A budget of one byte: every idle session is evicted to the spill service after its turn.
        var w1 = worker("w1", "1B");
        chat.turn(0);
        chat.turn(1);
        w1.close();
        // A restarted worker, with room to keep the session hot.
        var w2 = worker("w2", "1GB");
        chat.turn(2);
        // A second worker joins, then the first leaves: the session moves with its partition (on the rebalance or on
        // the shutdown, whichever moves it first), spilled by one worker and resumed by the other.
        var w3 = worker("w3", "1GB");
        w2.close();
        chat.turn(3);
        // The spill service restarts between the spill and the resume.
        w3.close();
        spill.close();
        spill = spill(spillPort);
        var w4 = worker("w4", "1B");
        chat.turn(4);
        assertThat(chat.answers).isEqualTo(reference.answers.subList(0, 5));
        assertThat(chat.cached.subList(1, 5)).as("later turns resume the cache rather than prefill").allMatch(c -> c > 0);

        // Stopping the worker spills the session; then the spill is truncated, and later corrupted.
        w4.close();
        try (var f = new RandomAccessFile(newestSpill(chat.session).toFile(), "rw")) {
            f.setLength(f.length() / 2);
        }
        damagedSpillFallsBack(chat, 5);
        Path blob = newestSpill(chat.session);
        byte[] bytes = Files.readAllBytes(blob);
        bytes[bytes.length / 2] ^= 0x40;
        Files.write(blob, bytes);
        damagedSpillFallsBack(chat, 6);
    }
}
