package io.spillway.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.spillway.engine.generate.ContinuousBatcher;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.generate.Session;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Which sessions spill when, and how they come back, against a small in-memory stand-in for
 * kv-spill-service that keeps its contract (versions, If-Match, 409, 404); the real service is
 * exercised end to end in the embedded module's SessionSurvivalTest.
 */
class SessionRegistryTest {
    private static final LlamaModel model = TinyModel.MODEL;
    private static final Tokenizer tokenizer = TinyModel.TOKENIZER;
    private static final KvCacheFactory caches = new KvCacheFactory(model, "rotatekv2", KvCacheFactory.Mode.DECODE);

    private record Blob(long version, byte[] bytes) {
    }

    private final Map<String, Blob> store = new ConcurrentHashMap<>();
    private HttpServer server;
    private MockProducer<String, SpecificRecord> directory;
    private SimpleMeterRegistry meters;

    @BeforeEach
    void startStore() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/spills/", this::serve);
        server.start();
        directory = new MockProducer<>(true, null, new StringSerializer(), (topic, r) -> new byte[0]);
        meters = new SimpleMeterRegistry();
    }

    @AfterEach
    void stopStore() {
        server.stop(0);
    }

    private void serve(HttpExchange x) throws IOException {
        String key = x.getRequestURI().getPath().substring("/v1/spills/".length());
        Blob b = store.get(key);
        if (x.getRequestMethod().equals("GET")) {
            if (b == null) {
                x.sendResponseHeaders(404, -1);
            } else {
                x.getResponseHeaders().add("ETag", "\"" + b.version() + "\"");
                x.sendResponseHeaders(200, b.bytes().length);
                x.getResponseBody().write(b.bytes());
            }
        } else {
            long expected = Long.parseLong(x.getRequestHeaders().getFirst("If-Match"));
            byte[] body = x.getRequestBody().readAllBytes();
            if (expected != (b == null ? 0 : b.version())) {
                x.sendResponseHeaders(409, -1);
            } else {
                store.put(key, new Blob(expected + 1, body));
                byte[] json = ("{\"version\":" + (expected + 1) + "}").getBytes(StandardCharsets.UTF_8);
                x.sendResponseHeaders(201, json.length);
                x.getResponseBody().write(json);
            }
        }
        x.close();
    }

    private SessionRegistry registry(int maxSessions, long budget) {
        SpillClient client = new SpillClient(URI.create("http://127.0.0.1:" + server.getAddress().getPort()), "t", Duration.ofSeconds(5));
        SessionDirectory dir = new SessionDirectory(directory, "spillway.sessions", "w", "rotatekv2", model.fingerprint());
        return new SessionRegistry(maxSessions, budget, caches, new SessionSpills(client, dir, caches, model.fingerprint(), meters));
    }

    /** Runs one short generation in the session, as the worker's engine would. */
    private static void use(Session s, int seed) {
        ContinuousBatcher b = new ContinuousBatcher(model, tokenizer, caches, 1, 64);
        b.submit(new GenerationRequest(IntStream.range(seed, seed + 40).toArray(), SamplingParams.greedy(4), Set.of()), new UnreadOutput(), s);
        b.runUntilIdle();
    }

    private List<SessionState> entries() {
        return directory.history().stream().map(r -> (SessionState) r.value()).toList();
    }

    @Test
    void overTheBudgetTheLeastRecentlyUsedIdleSessionSpillsAndComesBackIdentical() {
        try (SessionRegistry r = registry(10, 1)) {
            Session a = r.acquire("a", "k", 0);
            use(a, 10);
            int[] tokens = a.tokens();
            Session b = r.acquire("b", "k", 1);
            // "a" went over the budget when "b" came; "b" itself is kept while it is handed out.
            assertThat(store).containsOnlyKeys("a");
            assertThat(r.size()).isEqualTo(1);
            use(b, 20);
            r.enforceLimits();
            assertThat(store).containsOnlyKeys("a", "b");
            Session back = r.acquire("a", "k", 0);
            assertThat(back.tokens()).isEqualTo(tokens);
            assertThat(meters.counter("spillway.worker.sessions.resumed").count()).isEqualTo(1);
            assertThat(entries()).extracting(SessionState::getSessionId, SessionState::getState, SessionState::getVersion)
                    .contains(org.assertj.core.groups.Tuple.tuple("a", SessionStatus.SPILLED, 2L),
                            org.assertj.core.groups.Tuple.tuple("a", SessionStatus.HOT, 3L));
        }
    }

    @Test
    void revokedPartitionsSpillTheirSessionsAndShutdownSpillsTheRest() {
        try (SessionRegistry r = registry(10, Long.MAX_VALUE)) {
            use(r.acquire("p0", "k", 0), 30);
            use(r.acquire("p1", "k", 1), 40);
            r.release(List.of(1));
            assertThat(store).containsOnlyKeys("p1");
            assertThat(r.size()).isEqualTo(1);
            r.spillAll();
            assertThat(store).containsOnlyKeys("p0", "p1");
            assertThat(r.size()).isZero();
        }
    }

    @Test
    void aStaleCopyIsDroppedNotWrittenOverANewerSpill() {
        try (SessionRegistry r = registry(10, Long.MAX_VALUE)) {
            use(r.acquire("s", "k", 0), 50);
            // Another worker spilled the session meanwhile (version 1): this worker's copy read version 0.
            store.put("s", new Blob(1, new byte[] {1, 2, 3}));
            r.spillAll();
            assertThat(store.get("s").version()).isEqualTo(1);
            assertThat(meters.counter("spillway.worker.sessions.spilled").count()).isZero();
        }
    }

    @Test
    void anUnreadableSpillGivesAnEmptySessionAndItsNextSpillReplacesIt() {
        store.put("s", new Blob(4, "not a spill".getBytes(StandardCharsets.UTF_8)));
        try (SessionRegistry r = registry(10, Long.MAX_VALUE)) {
            Session s = r.acquire("s", "k", 0);
            assertThat(s.tokenCount()).isZero();
            assertThat(meters.counter("spillway.worker.sessions.resume.fallbacks", "reason", "unreadable").count()).isEqualTo(1);
            use(s, 60);
            r.spillAll();
            assertThat(store.get("s").version()).isEqualTo(5);
        }
    }

    @Test
    void idsTheStoreDoesNotAcceptAreStoredUnderTheirHash() {
        assertThat(SessionSpills.key("chat-42_a.b:c")).isEqualTo("chat-42_a.b:c");
        assertThat(SessionSpills.key("user@example.com/chat 1")).startsWith("sha256-").hasSize(7 + 64);
    }
}
