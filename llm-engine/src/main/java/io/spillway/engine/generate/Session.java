package io.spillway.engine.generate;

import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvSpill;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * A conversation's hot state between requests: its KV cache and the token ids whose keys and values
 * the cache holds. A request whose prompt starts with those tokens prefills only the rest, so clients
 * that resend the whole history pay only for what is new. Owned by the caller, used by one
 * generation at a time.
 */
public final class Session implements AutoCloseable {
    private final String id;
    private final Supplier<KvCache> caches;
    private KvCache cache;
    private int[] tokens = new int[0];
    private boolean busy;
    private long lastUsedNanos = System.nanoTime();

    public Session(String id, Supplier<KvCache> caches) {
        this(id, caches, caches.get(), new int[0]);
    }

    private Session(String id, Supplier<KvCache> caches, KvCache cache, int[] tokens) {
        this.id = id;
        this.caches = caches;
        this.cache = cache;
        this.tokens = tokens;
    }

    /**
     * The session a spill blob holds, its cache restored bit for bit. Throws, holding nothing, when the
     * blob is corrupt, truncated, or was made for another model, KV method or calibration.
     */
    public static Session restore(String id, Supplier<KvCache> caches, String modelFingerprint, InputStream blob) throws IOException {
        KvCache cache = caches.get();
        int[] tokens = KvSpill.read(cache, modelFingerprint, blob);
        return new Session(id, caches, cache, tokens);
    }

    /** Whether {@link #writeTo} can store this session's cache (dense and quantized caches can). */
    public synchronized boolean spillable() {
        return KvSpill.spillable(cache);
    }

    /** Writes the cache and the token ids it covers, for {@link #restore}; not while a generation runs. */
    public synchronized void writeTo(String modelFingerprint, OutputStream out) throws IOException {
        if (busy) {
            throw new IllegalStateException("session " + id + " is generating");
        }
        KvSpill.write(cache, tokens, modelFingerprint, out);
    }

    public String id() {
        return id;
    }

    public synchronized int tokenCount() {
        return tokens.length;
    }

    public synchronized int[] tokens() {
        return tokens.clone();
    }

    public synchronized long bytes() {
        return cache.bytes();
    }

    public synchronized long lastUsedNanos() {
        return lastUsedNanos;
    }

    public synchronized boolean busy() {
        return busy;
    }

    /**
     * Claims the session for a generation of {@code prompt}: keeps the cached prefix the prompt shares
     * (leaving at least one prompt token to run, whose logits start the generation) and returns its length.
     */
    synchronized int claim(int[] prompt) {
        if (busy) {
            throw new IllegalStateException("session " + id + " is already generating");
        }
        busy = true;
        int common = 0;
        int max = Math.min(tokens.length, prompt.length - 1);
        while (common < max && tokens[common] == prompt[common]) {
            common++;
        }
        if (common < cache.length()) {
            try {
                cache.truncate(common);
            } catch (IllegalArgumentException packedPastThePrefix) {
                // Quantized blocks cannot be cut open: start the cache again from nothing.
                cache.close();
                cache = caches.get();
                common = 0;
            }
        }
        tokens = Arrays.copyOf(tokens, common);
        return common;
    }

    synchronized KvCache cache() {
        return cache;
    }

    /** Ends a generation: the cache now holds {@code history[0, cache.length())}. */
    synchronized void release(int[] history) {
        tokens = Arrays.copyOf(history, cache.length());
        busy = false;
        lastUsedNanos = System.nanoTime();
    }

    /** Ends a generation that failed part way: what its cache holds is unknown, so the session starts again empty. */
    synchronized void reset() {
        cache.close();
        cache = caches.get();
        tokens = new int[0];
        busy = false;
        lastUsedNanos = System.nanoTime();
    }

    @Override
    public synchronized void close() {
        cache.close();
        tokens = new int[0];
    }
}
