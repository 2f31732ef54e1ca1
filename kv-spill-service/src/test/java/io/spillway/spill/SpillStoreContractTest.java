package io.spillway.spill;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What every {@link SpillStore} promises, run against each backend by a subclass: a real filesystem, a real S3 API
 * server.
 */
abstract class SpillStoreContractTest {
    static final Duration TTL = Duration.ofHours(1);

    /** A fresh, empty store. */
    abstract SpillStore store(long maxBytes) throws IOException;

    /** Names of everything the store keeps (files, object keys), to see that nothing leaks. */
    abstract List<String> storedObjects() throws IOException;

    /** Leaves what a process killed in the middle of a put of {@code sessionId} would leave, aged past the TTL if it can. */
    abstract void leaveStraysOfAKilledPut(String sessionId) throws IOException;

    @Test
    void roundTripsAMultiMebibyteBlobWithItsSha256() throws Exception {
        SpillStore store = store(64L << 20);
        byte[] blob = randomBytes(5 * 1024 * 1024 + 17, 1);

        Stored stored = store.put("session-1", 0, new ByteArrayInputStream(blob));

        assertThat(stored.version()).isEqualTo(1);
        assertThat(stored.bytes()).isEqualTo(blob.length);
        assertThat(stored.sha256()).isEqualTo(sha256(blob));
        try (StoredBlob read = store.get("session-1").orElseThrow()) {
            assertThat(read.stored()).isEqualTo(stored);
            assertThat(read.content().readAllBytes()).isEqualTo(blob);
        }
        assertThat(store.find("session-1")).hasValue(stored);
        assertThat(store.get("other")).isEmpty();
        assertThat(store.find("other")).isEmpty();
    }

    @Test
    void writesAreConditionalOnTheCurrentVersion() throws Exception {
        SpillStore store = store(1 << 20);
        assertThat(store.put("s", 0, bytes("v1")).version()).isEqualTo(1);
        assertThat(store.put("s", 1, bytes("v2")).version()).isEqualTo(2);

        // A stale worker that still believes version 1 cannot overwrite version 2.
        assertThatThrownBy(() -> store.put("s", 1, bytes("stale")))
                .isInstanceOfSatisfying(VersionConflictException.class, e -> {
                    assertThat(e.expectedVersion()).isEqualTo(1);
                    assertThat(e.currentVersion()).isEqualTo(2);
                });
        // Nor can a writer that thinks the session is new.
        assertThatThrownBy(() -> store.put("s", 0, bytes("new"))).isInstanceOf(VersionConflictException.class);
        // Nor one that skips ahead.
        assertThatThrownBy(() -> store.put("s", 5, bytes("ahead"))).isInstanceOf(VersionConflictException.class);

        assertThat(read(store, "s")).isEqualTo("v2");
        assertThat(storedObjects()).hasSize(2);
    }

    @Test
    void ofConcurrentPutsOfTheSameExpectedVersionExactlyOneWins() throws Exception {
        SpillStore store = store(1 << 20);
        store.put("s", 0, bytes("base"));
        int threads = 8;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<String>> outcomes = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String body = "writer-" + i;
                outcomes.add(pool.submit(() -> {
                    start.await();
                    try {
                        store.put("s", 1, new ByteArrayInputStream(randomBytes(256 * 1024, body.hashCode())));
                        return body;
                    } catch (VersionConflictException e) {
                        return "conflict";
                    }
                }));
            }
            start.countDown();
            List<String> results = new ArrayList<>();
            for (Future<String> outcome : outcomes) {
                results.add(outcome.get());
            }
            assertThat(results).filteredOn(r -> !r.equals("conflict")).hasSize(1);
            String winner = results.stream().filter(r -> !r.equals("conflict")).findFirst().orElseThrow();
            try (StoredBlob read = store.get("s").orElseThrow()) {
                assertThat(read.stored().version()).isEqualTo(2);
                assertThat(read.content().readAllBytes()).isEqualTo(randomBytes(256 * 1024, winner.hashCode()));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(storedObjects()).hasSize(2);
    }

    @Test
    void aPutThatFailsMidwayLeavesTheOldVersionAndNoTempFiles() throws Exception {
        SpillStore store = store(64L << 20);
        store.put("s", 0, bytes("old"));

        // Past one 5 MiB part, so a multipart upload is under way when the connection drops.
        assertThatThrownBy(() -> store.put("s", 1, new FailingAfter(12 * 1024 * 1024)))
                .isInstanceOf(IOException.class).hasMessageContaining("connection lost");

        try (StoredBlob read = store.get("s").orElseThrow()) {
            assertThat(read.stored().version()).isEqualTo(1);
            assertThat(new String(read.content().readAllBytes())).isEqualTo("old");
        }
        assertThat(storedObjects()).hasSize(2);
        assertThat(store.put("s", 1, bytes("retry")).version()).isEqualTo(2);
    }

    @Test
    void rejectsABlobOverTheLimitWhileStreaming() throws Exception {
        SpillStore store = store(1000);
        assertThat(store.put("s", 0, new ByteArrayInputStream(new byte[1000])).bytes()).isEqualTo(1000);

        assertThatThrownBy(() -> store.put("s", 1, new ByteArrayInputStream(new byte[1001])))
                .isInstanceOf(BlobTooLargeException.class).hasMessageContaining("1000 bytes");

        try (StoredBlob read = store.get("s").orElseThrow()) {
            assertThat(read.stored().bytes()).isEqualTo(1000);
        }
        assertThat(storedObjects()).hasSize(2);
    }

    @Test
    void rejectsSessionIdsThatAreNotSafeFileNames() throws Exception {
        SpillStore store = store(1000);
        for (String bad : new String[] {"../x", "", "a".repeat(201), "a/b", "a\\b", "x y", null}) {
            assertThatThrownBy(() -> store.put(bad, 0, bytes("x"))).as(String.valueOf(bad)).isInstanceOf(InvalidSessionIdException.class);
            assertThatThrownBy(() -> store.get(bad)).isInstanceOf(InvalidSessionIdException.class);
            assertThatThrownBy(() -> store.delete(bad)).isInstanceOf(InvalidSessionIdException.class);
        }
        assertThat(store.put("a".repeat(200), 0, bytes("x")).version()).isEqualTo(1);
        assertThat(store.put("tenant:A_b-1.2", 0, bytes("x")).version()).isEqualTo(1);
    }

    @Test
    void deletes() throws Exception {
        SpillStore store = store(1000);
        store.put("s", 0, bytes("x"));
        assertThat(store.delete("s")).isTrue();
        assertThat(store.delete("s")).isFalse();
        assertThat(store.get("s")).isEmpty();
        assertThat(storedObjects()).isEmpty();
        assertThat(store.put("s", 0, bytes("again")).version()).isEqualTo(1);
    }

    @Test
    void expiresSpillsOlderThanTheTtlAndLeftoversOfKilledPuts() throws Exception {
        SpillStore store = store(1000);
        store.put("old", 0, bytes("x"));
        store.put("also-old", 0, bytes("x"));
        store.put("also-old", 1, bytes("y"));
        leaveStraysOfAKilledPut("old");
        List<String> everything = storedObjects();

        assertThat(store.expire(Instant.now())).isEmpty();
        assertThat(storedObjects()).containsExactlyInAnyOrderElementsOf(everything);

        assertThat(store.expire(Instant.now().plus(TTL).plusSeconds(1))).containsExactlyInAnyOrder("old", "also-old");
        assertThat(store.get("old")).isEmpty();
        assertThat(store.get("also-old")).isEmpty();
        assertThat(storedObjects()).isEmpty();
    }

    private static String read(SpillStore store, String sessionId) throws IOException {
        try (StoredBlob blob = store.get(sessionId).orElseThrow()) {
            return new String(blob.content().readAllBytes());
        }
    }

    private static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes());
    }

    static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    /** An upload whose connection drops after {@code limit} bytes. */
    private static final class FailingAfter extends InputStream {
        private final long limit;
        private long read;

        FailingAfter(long limit) {
            this.limit = limit;
        }

        @Override
        public int read() throws IOException {
            if (read++ >= limit) {
                throw new IOException("connection lost");
            }
            return 'x';
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (read >= limit) {
                throw new IOException("connection lost");
            }
            int n = (int) Math.min(len, limit - read);
            java.util.Arrays.fill(b, off, off + n, (byte) 'x');
            read += n;
            return n;
        }
    }
}
