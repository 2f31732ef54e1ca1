package io.spillway.spill;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;

/**
 * What is known about one stored spill.
 *
 * @param version  1 for the first spill of a session, +1 for each rewrite
 * @param bytes    blob length
 * @param sha256   lowercase hex digest of the blob
 * @param storedAt when this version was committed (the TTL counts from here)
 */
public record Stored(String sessionId, long version, long bytes, String sha256, Instant storedAt) {

    /** The digest {@link #sha256} is made with. */
    static MessageDigest sha256Digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
