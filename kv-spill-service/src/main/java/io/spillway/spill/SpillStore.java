package io.spillway.spill;

import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Opaque spilled blobs by session id, with optimistic versioning. */
public interface SpillStore {

    /**
     * Stores {@code blob} as version {@code expectedVersion + 1}, streaming it (never whole in memory).
     *
     * @param expectedVersion the version the writer last saw: 0 for a session with no spill
     * @throws VersionConflictException   when the stored version is not {@code expectedVersion}
     * @throws BlobTooLargeException      when the blob passes the size limit
     * @throws InvalidSessionIdException  when the session id is not a safe name
     */
    Stored put(String sessionId, long expectedVersion, InputStream blob) throws IOException;

    /** What is stored for the session (version, size, digest), without opening the blob. */
    Optional<Stored> find(String sessionId) throws IOException;

    /** The current spill, opened for streaming; the caller closes it. */
    Optional<StoredBlob> get(String sessionId) throws IOException;

    /** @return whether there was a spill to delete */
    boolean delete(String sessionId) throws IOException;

    /** Deletes spills stored more than the TTL before {@code now} (and leftovers of failed puts); returns the sessions expired. */
    List<String> expire(Instant now) throws IOException;
}
