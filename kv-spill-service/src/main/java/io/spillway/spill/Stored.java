package io.spillway.spill;

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
}
