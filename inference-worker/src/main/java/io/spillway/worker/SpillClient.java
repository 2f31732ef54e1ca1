package io.spillway.worker;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * kv-spill-service's API as a worker uses it: fetch a session's blob as a stream, store one only
 * over the version this worker last saw ({@code If-Match}), so a stale worker never overwrites a newer spill.
 */
final class SpillClient {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A fetched blob: the version to store over next time, and its bytes as they arrive. */
    record Fetched(long version, InputStream body, ScheduledFuture<?> deadline) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            deadline.cancel(false);
            body.close();
        }
    }

    private static final ScheduledExecutorService DEADLINES = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("spillway-spill-deadlines").factory());

    /** The store holds a newer spill than the one this worker resumed from. */
    static final class StaleSpillException extends IOException {
        StaleSpillException(String key, long expected) {
            super("spill of " + key + " changed since version " + expected + " was read");
        }
    }

    private final HttpClient http;
    private final URI base;
    private final String token;
    private final Duration timeout;

    SpillClient(URI base, String token, Duration timeout) {
        this.base = URI.create(base.toString().replaceAll("/+$", "") + "/");
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    URI location(String key) {
        return base.resolve("v1/spills/" + key);
    }

    /**
     * The blob as a stream, which is closed under its reader once the timeout has passed since the
     * request: a body that stalls (a store that lost part of a file it announced) must not hold up
     * the consumer thread.
     */
    Optional<Fetched> fetch(String key) throws IOException {
        HttpResponse<InputStream> r = send(request(key).GET(), HttpResponse.BodyHandlers.ofInputStream());
        if (r.statusCode() == 404) {
            r.body().close();
            return Optional.empty();
        }
        if (r.statusCode() != 200) {
            try (InputStream body = r.body()) {
                throw failure("fetch", key, r.statusCode(), body.readNBytes(300));
            }
        }
        String etag = r.headers().firstValue("ETag").orElse("");
        long version;
        try {
            version = Long.parseLong(etag.replace("\"", ""));
        } catch (NumberFormatException e) {
            r.body().close();
            throw new IOException("spill service gave " + key + " the unreadable ETag '" + etag + "'");
        }
        InputStream body = r.body();
        ScheduledFuture<?> deadline = DEADLINES.schedule(() -> {
            body.close();
            return null;
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        return Optional.of(new Fetched(version, body, deadline));
    }

    /** Stores {@code blob} over {@code expectedVersion} (0: none yet) and returns the new version. */
    long store(String key, long expectedVersion, byte[] blob) throws IOException {
        HttpResponse<byte[]> r = send(request(key).header("If-Match", Long.toString(expectedVersion))
                .header("Content-Type", "application/octet-stream").PUT(HttpRequest.BodyPublishers.ofByteArray(blob)),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 409) {
            throw new StaleSpillException(key, expectedVersion);
        }
        if (r.statusCode() != 201 && r.statusCode() != 200) {
            throw failure("store", key, r.statusCode(), r.body());
        }
        return JSON.readTree(r.body()).path("version").asLong();
    }

    private HttpRequest.Builder request(String key) {
        return HttpRequest.newBuilder(location(key)).timeout(timeout).header("Authorization", "Bearer " + token);
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder request, HttpResponse.BodyHandler<T> body) throws IOException {
        try {
            return http.send(request.build(), body);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted talking to the spill service", e);
        }
    }

    private static IOException failure(String what, String key, int status, byte[] body) {
        String detail = new String(body, 0, Math.min(body.length, 300), java.nio.charset.StandardCharsets.UTF_8);
        return new IOException("spill service refused to " + what + " " + key + ": HTTP " + status + " " + detail);
    }
}
