package io.spillway.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.spillway.engine.generate.Session;
import io.spillway.engine.kv.KvCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Moves sessions between this worker's memory and kv-spill-service, and keeps the session directory
 * told. A session whose spill is missing, unreadable or made for another model starts empty: the
 * request's prompt carries the whole conversation, so it is prefilled again, slower but with the
 * same answer; a spill failure never fails a request.
 */
final class SessionSpills {
    private static final Logger log = LoggerFactory.getLogger(SessionSpills.class);
    /** What the spill service accepts as a session id; other ids are stored under their hash. */
    private static final Pattern PLAIN_KEY = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

    /** A session made hot, with the store version its next spill must be written over. */
    record Resumed(Session session, long version) {
    }

    private final SpillClient client;
    private final SessionDirectory directory;
    private final Supplier<KvCache> caches;
    private final String modelFingerprint;
    private final Counter resumed;
    private final Counter restoredTokens;
    private final Counter spilled;
    private final Counter spilledBytes;
    private final Timer resumeTime;
    private final MeterRegistry meters;

    SessionSpills(SpillClient client, SessionDirectory directory, Supplier<KvCache> caches, String modelFingerprint, MeterRegistry meters) {
        this.client = client;
        this.directory = directory;
        this.caches = caches;
        this.modelFingerprint = modelFingerprint;
        this.meters = meters;
        this.resumed = Counter.builder("spillway.worker.sessions.resumed").description("sessions restored from a spill").register(meters);
        this.restoredTokens = Counter.builder("spillway.worker.sessions.restored.tokens").description("history tokens restored instead of prefilled")
                .register(meters);
        this.spilled = Counter.builder("spillway.worker.sessions.spilled").register(meters);
        this.spilledBytes = Counter.builder("spillway.worker.sessions.spilled.bytes").register(meters);
        this.resumeTime = Timer.builder("spillway.worker.sessions.resume.time").publishPercentiles(0.5, 0.99).register(meters);
    }

    static String key(String sessionId) {
        if (PLAIN_KEY.matcher(sessionId).matches()) {
            return sessionId;
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(sessionId.getBytes(StandardCharsets.UTF_8));
            return "sha256-" + HexFormat.of().formatHex(h);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The session as last spilled, or an empty one when there is none or it cannot be used. */
    Resumed resume(String sessionId, String apiKeyId) {
        long start = System.nanoTime();
        String key = key(sessionId);
        Resumed r = fetch(sessionId, key);
        directory.hot(sessionId, apiKeyId, r.version(), r.session().tokenCount(), r.session().bytes());
        if (r.session().tokenCount() > 0) {
            resumed.increment();
            restoredTokens.increment(r.session().tokenCount());
            resumeTime.record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
            log.info("session resumed session={} tokens={} bytes={} version={} ms={}", sessionId, r.session().tokenCount(),
                    r.session().bytes(), r.version(), (System.nanoTime() - start) / 1_000_000);
        }
        return r;
    }

    private Resumed fetch(String sessionId, String key) {
        Optional<SpillClient.Fetched> fetched;
        try {
            fetched = client.fetch(key);
        } catch (IOException e) {
            fallback(sessionId, "unreachable", e);
            return new Resumed(new Session(sessionId, caches), 0);
        }
        if (fetched.isEmpty()) {
            return new Resumed(new Session(sessionId, caches), 0);
        }
        long version = fetched.get().version();
        try (SpillClient.Fetched f = fetched.get()) {
            return new Resumed(Session.restore(sessionId, caches, modelFingerprint, f.body()), version);
        } catch (IOException | RuntimeException e) {
            fallback(sessionId, "unreadable", e);
            return new Resumed(new Session(sessionId, caches), version);
        }
    }

    private void fallback(String sessionId, String reason, Exception e) {
        meters.counter("spillway.worker.sessions.resume.fallbacks", "reason", reason).increment();
        log.warn("spilled session not restored, its prompt is prefilled again session={} reason={} error={}", sessionId, reason, e.toString());
    }

    /**
     * Stores an idle session over store version {@code version}; returns the new version, or -1 when
     * it was not stored (a newer spill exists, or the store failed): the session is then simply cold.
     */
    long spill(Session session, String apiKeyId, long version) {
        if (session.tokenCount() == 0 || !session.spillable()) {
            return -1;
        }
        long start = System.nanoTime();
        String key = key(session.id());
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Integer.MAX_VALUE - 64, session.bytes() + 65536));
            session.writeTo(modelFingerprint, out);
            long stored = client.store(key, version, out.toByteArray());
            spilled.increment();
            spilledBytes.increment(out.size());
            directory.spilled(session.id(), apiKeyId, stored, client.location(key).toString(), session.tokenCount(), out.size());
            log.info("session spilled session={} tokens={} bytes={} version={} ms={}", session.id(), session.tokenCount(), out.size(),
                    stored, (System.nanoTime() - start) / 1_000_000);
            return stored;
        } catch (SpillClient.StaleSpillException e) {
            log.info("session not spilled, the store holds a newer one session={} version={}", session.id(), version);
        } catch (IOException | RuntimeException e) {
            meters.counter("spillway.worker.sessions.spill.failures").increment();
            log.warn("session spill failed, it will be prefilled again session={} error={}", session.id(), e.toString());
        }
        return -1;
    }
}
