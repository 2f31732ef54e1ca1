package io.spillway.spill;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.util.FileSystemUtils;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spillway.spill.tokens=other-service,test-token", "spillway.spill.max-bytes=64MB"})
class SpillApiTest {
    private static final String TOKEN = "test-token";
    private static final long MIB = 1024 * 1024;
    private static final Path DIR = tempDir();

    @DynamicPropertySource
    static void spillDir(DynamicPropertyRegistry registry) {
        registry.add("spillway.spill.dir", DIR::toString);
    }

    /** The 64 MiB blob must not pile up in the temp folder run after run. */
    @AfterAll
    static void removeSpills() throws IOException {
        FileSystemUtils.deleteRecursively(DIR);
    }

    @LocalServerPort
    int port;

    @Autowired
    SpillStore store;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void putGetHeadDelete() throws Exception {
        byte[] blob = SpillStoreContractTest.randomBytes(300_000, 7);
        String sha = SpillStoreContractTest.sha256(blob);

        HttpResponse<String> created = send(put("crud", "0").PUT(BodyPublishers.ofByteArray(blob)), BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(created.body()).contains("\"sessionId\":\"crud\"", "\"version\":1", "\"bytes\":300000", "\"sha256\":\"" + sha + "\"");

        HttpResponse<byte[]> got = send(request("crud").GET(), BodyHandlers.ofByteArray());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(blob);
        assertThat(got.headers().firstValue("Content-Type")).hasValue("application/octet-stream");
        assertThat(got.headers().firstValue("ETag")).hasValue("\"1\"");
        assertThat(got.headers().firstValue("X-Spill-Sha256")).hasValue(sha);
        assertThat(got.headers().firstValueAsLong("Content-Length")).hasValue(300_000);

        HttpResponse<byte[]> head = send(request("crud").HEAD(), BodyHandlers.ofByteArray());
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValue("ETag")).hasValue("\"1\"");
        assertThat(head.headers().firstValue("X-Spill-Sha256")).hasValue(sha);
        assertThat(head.headers().firstValueAsLong("Content-Length")).hasValue(300_000);

        // The ETag GET returned is accepted as If-Match as it is.
        HttpResponse<String> next = send(put("crud", "\"1\"").PUT(BodyPublishers.ofString("v2")), BodyHandlers.ofString());
        assertThat(next.statusCode()).isEqualTo(201);
        assertThat(next.body()).contains("\"version\":2", "\"bytes\":2");

        assertThat(send(request("crud").DELETE(), BodyHandlers.discarding()).statusCode()).isEqualTo(204);
        assertThat(send(request("crud").DELETE(), BodyHandlers.discarding()).statusCode()).isEqualTo(404);
        assertThat(send(request("crud").GET(), BodyHandlers.ofString()).statusCode()).isEqualTo(404);
        assertThat(send(request("crud").HEAD(), BodyHandlers.discarding()).statusCode()).isEqualTo(404);
    }

    @Test
    void refusesRequestsWithoutAKnownToken() throws Exception {
        HttpRequest.Builder noToken = HttpRequest.newBuilder(uri("auth")).header("If-Match", "0").PUT(BodyPublishers.ofString("x"));
        assertThat(send(noToken, BodyHandlers.discarding()).statusCode()).isEqualTo(401);
        HttpRequest.Builder wrongToken = HttpRequest.newBuilder(uri("auth")).header("Authorization", "Bearer test-tokenX")
                .header("If-Match", "0").PUT(BodyPublishers.ofString("x"));
        assertThat(send(wrongToken, BodyHandlers.discarding()).statusCode()).isEqualTo(401);
        HttpRequest.Builder get = HttpRequest.newBuilder(uri("auth")).header("Authorization", "Basic dGVzdC10b2tlbg==").GET();
        assertThat(send(get, BodyHandlers.discarding()).statusCode()).isEqualTo(401);
        assertThat(store.get("auth")).isEmpty();
        // Any configured token is accepted.
        HttpRequest.Builder other = HttpRequest.newBuilder(uri("auth")).header("Authorization", "Bearer other-service").GET();
        assertThat(send(other, BodyHandlers.discarding()).statusCode()).isEqualTo(404);
    }

    @Test
    void aStaleVersionIsAConflictNamingBothVersions() throws Exception {
        assertThat(send(put("conflict", "0").PUT(BodyPublishers.ofString("a")), BodyHandlers.discarding()).statusCode()).isEqualTo(201);
        assertThat(send(put("conflict", "1").PUT(BodyPublishers.ofString("b")), BodyHandlers.discarding()).statusCode()).isEqualTo(201);

        HttpResponse<String> stale = send(put("conflict", "1").PUT(BodyPublishers.ofString("stale")), BodyHandlers.ofString());
        assertThat(stale.statusCode()).isEqualTo(409);
        assertThat(stale.body()).contains("\"expectedVersion\":1", "\"currentVersion\":2");
        assertThat(new String(send(request("conflict").GET(), BodyHandlers.ofByteArray()).body())).isEqualTo("b");
    }

    @Test
    void badSessionIdsAndIfMatchValuesAreBadRequests() throws Exception {
        assertThat(send(put("a".repeat(201), "0").PUT(BodyPublishers.ofString("x")), BodyHandlers.discarding()).statusCode()).isEqualTo(400);
        assertThat(send(put("x%20y", "0").PUT(BodyPublishers.ofString("x")), BodyHandlers.discarding()).statusCode()).isEqualTo(400);
        assertThat(send(request("no-if-match").PUT(BodyPublishers.ofString("x")), BodyHandlers.discarding()).statusCode()).isEqualTo(400);
        assertThat(send(put("bad-if-match", "latest").PUT(BodyPublishers.ofString("x")), BodyHandlers.discarding()).statusCode()).isEqualTo(400);
        assertThat(send(put("bad-if-match", "-1").PUT(BodyPublishers.ofString("x")), BodyHandlers.discarding()).statusCode()).isEqualTo(400);
        assertThat(send(request("%2E%2E%2Fx").GET(), BodyHandlers.discarding()).statusCode()).isIn(400, 404);
    }

    @Test
    void aBodySentAsAFormIsStoredAsItIs() throws Exception {
        // curl --data-binary labels its body application/x-www-form-urlencoded; it must not be parsed as a form.
        byte[] blob = "a=1&b=2".getBytes();
        HttpResponse<String> created = send(put("form", "0").header("Content-Type", "application/x-www-form-urlencoded")
                .PUT(BodyPublishers.ofByteArray(blob)), BodyHandlers.ofString());
        assertThat(created.statusCode()).isEqualTo(201);
        assertThat(send(request("form").GET(), BodyHandlers.ofByteArray()).body()).isEqualTo(blob);
    }

    @Test
    void withoutKafkaTheSessionDirectoryIsOffAndSaysSo() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/v1/sessions/s"))
                .header("Authorization", "Bearer " + TOKEN).GET().build(), BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(501);
        assertThat(response.body()).contains("spillway.spill.kafka.bootstrap-servers");
    }

    @Test
    void aBlobOverTheLimitIsRefused() throws Exception {
        long size = 65 * MIB;
        HttpResponse<String> response = send(put("too-large", "0")
                .PUT(BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(() -> new Generated(size, 3)), size)), BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.body()).contains("\"maxBytes\":" + 64 * MIB);
        assertThat(store.get("too-large")).isEmpty();
        try (var files = Files.list(DIR)) {
            assertThat(files.map(Path::getFileName).map(Path::toString)).noneMatch(name -> name.startsWith("too-large"));
        }
    }

    @Test
    void a64MebibyteSpillStreamsThroughBothWays() throws Exception {
        long size = 64 * MIB;
        String expectedSha = sha256(new Generated(size, 11));

        HttpResponse<String> created = send(put("big", "0")
                .PUT(BodyPublishers.fromPublisher(BodyPublishers.ofInputStream(() -> new Generated(size, 11)), size)), BodyHandlers.ofString());
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.body()).contains("\"bytes\":" + size, "\"sha256\":\"" + expectedSha + "\"");

        HttpResponse<InputStream> got = send(request("big").GET(), BodyHandlers.ofInputStream());
        assertThat(got.statusCode()).isEqualTo(200);
        assertThat(got.headers().firstValueAsLong("Content-Length")).hasValue(size);
        assertThat(got.headers().firstValue("X-Spill-Sha256")).hasValue(expectedSha);
        try (InputStream body = got.body()) {
            assertThat(sha256(body)).isEqualTo(expectedSha);
        }
    }

    private HttpRequest.Builder request(String sessionId) {
        return HttpRequest.newBuilder(uri(sessionId)).header("Authorization", "Bearer " + TOKEN);
    }

    private HttpRequest.Builder put(String sessionId, String ifMatch) {
        return request(sessionId).header("If-Match", ifMatch);
    }

    private URI uri(String sessionId) {
        return URI.create("http://localhost:" + port + "/v1/spills/" + sessionId);
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> handler) throws Exception {
        return http.send(request.build(), handler);
    }

    /** Reads a stream to its end, keeping only the digest. */
    private static String sha256(InputStream in) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (DigestInputStream digesting = new DigestInputStream(in, sha)) {
            digesting.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("spill-api-test");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deterministic pseudo-random bytes made on the fly, so neither side of the test holds the blob. */
    private static final class Generated extends InputStream {
        private final Random random;
        private long remaining;

        Generated(long size, long seed) {
            this.random = new Random(seed);
            this.remaining = size;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (remaining == 0) {
                return -1;
            }
            int n = (int) Math.min(len, remaining);
            byte[] chunk = new byte[n];
            random.nextBytes(chunk);
            System.arraycopy(chunk, 0, b, off, n);
            remaining -= n;
            return n;
        }
    }
}
