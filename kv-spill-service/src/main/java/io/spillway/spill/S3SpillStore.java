package io.spillway.spill;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/**
 * Spills in an S3-compatible bucket. Each session has a small <em>head</em> object, {@code <prefix>heads/<id>},
 * naming its version, size, digest and blob key; blobs are {@code <prefix>blobs/<id>/<version>-<uuid>}, written
 * once and never overwritten (the uuid keeps two racing writers of the same version apart).
 *
 * <p>A put streams the blob first (one part buffer in memory at most: a single PUT when the blob fits in one
 * part, a multipart upload otherwise), then commits by writing the head with an S3 conditional write:
 * {@code If-None-Match: *} for a new session, {@code If-Match: <head ETag>} otherwise. A head changed since it
 * was read fails that write (412), so across service instances a stale writer cannot replace a newer spill.
 * Within one instance commits are also serialized by a per-session lock, which keeps the guarantee on servers
 * whose conditional writes are a check-then-write rather than atomic (s3proxy's are). A put that fails or
 * loses deletes its blob; the previous version's blob is deleted after a successful commit.
 */
public final class S3SpillStore implements SpillStore {
    private static final Logger log = LoggerFactory.getLogger(S3SpillStore.class);
    /** S3 refuses parts below 5 MiB (except the last) and uploads of more than 10,000 parts. */
    static final long MIN_PART_SIZE = 5L * 1024 * 1024;
    private static final int MAX_PARTS = 10_000;
    private static final String BLOB_KEY = "blob";
    /** A reader that lost the race with a put (its blob deleted under it) reads the new head again, this many times. */
    private static final int READ_ATTEMPTS = 3;

    private final S3Client s3;
    private final String bucket;
    private final String heads;
    private final String blobs;
    private final long maxBytes;
    private final Duration ttl;
    private final int partSize;
    private final SessionLocks locks = new SessionLocks();

    private record Head(Stored stored, String blobKey, String eTag) {
    }

    public S3SpillStore(S3Client s3, String bucket, String prefix, long maxBytes, Duration ttl, long partSize) {
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("spillway.spill.s3.bucket is required for the s3 store");
        }
        if (partSize < MIN_PART_SIZE || partSize > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("spillway.spill.s3.part-size must be between 5MB and 2GB: " + partSize);
        }
        if (Math.ceilDiv(maxBytes, partSize) > MAX_PARTS) {
            throw new IllegalArgumentException("max-bytes " + maxBytes + " needs more than " + MAX_PARTS + " parts of " + partSize
                    + " bytes: raise spillway.spill.s3.part-size");
        }
        try {
            // Fail at start, not at the first spill: a wrong bucket name or endpoint is a configuration error.
            s3.headBucket(b -> b.bucket(bucket));
        } catch (NoSuchBucketException e) {
            throw new IllegalArgumentException("bucket " + bucket + " does not exist (spillway.spill.s3.bucket); create it first", e);
        }
        this.s3 = s3;
        this.bucket = bucket;
        this.heads = prefix + "heads/";
        this.blobs = prefix + "blobs/";
        this.maxBytes = maxBytes;
        this.ttl = ttl;
        this.partSize = (int) partSize;
    }

    @Override
    public Stored put(String sessionId, long expectedVersion, InputStream blob) throws IOException {
        SessionIds.require(sessionId);
        if (expectedVersion < 0) {
            throw new IllegalArgumentException("expected version must be >= 0: " + expectedVersion);
        }
        // Fail fast before a possibly long upload; the conditional head write below is what counts.
        checkVersion(sessionId, expectedVersion, readHead(sessionId));
        long version = expectedVersion + 1;
        String blobKey = blobs + sessionId + "/" + version + "-" + UUID.randomUUID();
        boolean committed = false;
        Optional<Head> replaced;
        try {
            MessageDigest sha = Stored.sha256Digest();
            long bytes = upload(blobKey, blob, sha);
            Stored stored = new Stored(sessionId, version, bytes, HexFormat.of().formatHex(sha.digest()), Instant.now());
            replaced = locks.withLock(sessionId, () -> {
                // Read again under the lock: the head this instance last committed is the one the condition names.
                Optional<Head> current = readHead(sessionId);
                checkVersion(sessionId, expectedVersion, current);
                writeHead(stored, blobKey, current);
                return current;
            });
            committed = true;
            replaced.ifPresent(old -> deleteQuietly(old.blobKey()));
            return stored;
        } finally {
            if (!committed) {
                deleteQuietly(blobKey);
            }
        }
    }

    @Override
    public Optional<Stored> find(String sessionId) throws IOException {
        SessionIds.require(sessionId);
        return readHead(sessionId).map(Head::stored);
    }

    @Override
    public Optional<StoredBlob> get(String sessionId) throws IOException {
        SessionIds.require(sessionId);
        for (int attempt = 1; ; attempt++) {
            Optional<Head> head = readHead(sessionId);
            if (head.isEmpty()) {
                return Optional.empty();
            }
            try {
                ResponseInputStream<GetObjectResponse> content = s3.getObject(b -> b.bucket(bucket).key(head.get().blobKey()));
                return Optional.of(new StoredBlob(head.get().stored(), content));
            } catch (NoSuchKeyException replaced) {
                // A put committed a newer version and deleted this blob between our two reads.
                if (attempt == READ_ATTEMPTS) {
                    throw new IOException("session " + sessionId + ": blob " + head.get().blobKey() + " named by its head is missing");
                }
            }
        }
    }

    @Override
    public boolean delete(String sessionId) throws IOException {
        SessionIds.require(sessionId);
        return locks.withLock(sessionId, () -> {
            Optional<Head> head = readHead(sessionId);
            if (head.isEmpty()) {
                return false;
            }
            s3.deleteObject(b -> b.bucket(bucket).key(heads + sessionId));
            deleteQuietly(head.get().blobKey());
            return true;
        });
    }

    @Override
    public List<String> expire(Instant now) throws IOException {
        Instant cutoff = now.minus(ttl);
        List<String> expired = new ArrayList<>();
        // A head is rewritten by every put, so its LastModified is when the current version was committed.
        for (S3Object head : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(heads)).contents()) {
            String sessionId = head.key().substring(heads.length());
            if (head.lastModified().isBefore(cutoff) && expireSession(sessionId, cutoff)) {
                expired.add(sessionId);
            }
        }
        removeStrays(cutoff);
        return expired;
    }

    private boolean expireSession(String sessionId, Instant cutoff) throws IOException {
        return locks.withLock(sessionId, () -> {
            Optional<Head> head = readHead(sessionId);
            if (head.isEmpty() || !head.get().stored().storedAt().isBefore(cutoff)) {
                return false;
            }
            try {
                // Conditional, so a put another instance committed since the read is not swept with the old version.
                s3.deleteObject(b -> b.bucket(bucket).key(heads + sessionId).ifMatch(head.get().eTag()));
            } catch (S3Exception e) {
                if (e.statusCode() == 412 || e.statusCode() == 409) {
                    return false;
                }
                throw e;
            }
            deleteQuietly(head.get().blobKey());
            return true;
        });
    }

    /**
     * Leftovers of a process killed mid-put: blobs no head names and multipart uploads never completed. Only
     * those older than the TTL count, so nothing a running put still owns is touched.
     */
    private void removeStrays(Instant cutoff) throws IOException {
        for (S3Object blob : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(blobs)).contents()) {
            if (!blob.lastModified().isBefore(cutoff)) {
                continue;
            }
            String rest = blob.key().substring(blobs.length());
            int slash = rest.indexOf('/');
            Optional<Head> head = slash > 0 ? readHead(rest.substring(0, slash)) : Optional.empty();
            if (head.isEmpty() || !head.get().blobKey().equals(blob.key())) {
                deleteQuietly(blob.key());
            }
        }
        for (MultipartUpload upload : s3.listMultipartUploadsPaginator(b -> b.bucket(bucket).prefix(blobs)).uploads()) {
            if (upload.initiated().isBefore(cutoff)) {
                s3.abortMultipartUpload(b -> b.bucket(bucket).key(upload.key()).uploadId(upload.uploadId()));
            }
        }
    }

    private Optional<Head> readHead(String sessionId) throws IOException {
        try (ResponseInputStream<GetObjectResponse> in = s3.getObject(b -> b.bucket(bucket).key(heads + sessionId))) {
            Properties properties = StoredProperties.read(in);
            return Optional.of(new Head(StoredProperties.toStored(sessionId, properties), properties.getProperty(BLOB_KEY),
                    in.response().eTag()));
        } catch (NoSuchKeyException absent) {
            return Optional.empty();
        }
    }

    private void writeHead(Stored stored, String blobKey, Optional<Head> current) throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        StoredProperties.write(stored, Map.of(BLOB_KEY, blobKey), body);
        PutObjectRequest.Builder request = PutObjectRequest.builder().bucket(bucket).key(heads + stored.sessionId())
                .contentType("text/plain; charset=utf-8");
        current.ifPresentOrElse(head -> request.ifMatch(head.eTag()), () -> request.ifNoneMatch("*"));
        try {
            s3.putObject(request.build(), RequestBody.fromBytes(body.toByteArray()));
        } catch (S3Exception e) {
            // 412: the head changed since it was read; 409: a concurrent conditional write to it is in flight;
            // NoSuchKey: the head named by If-Match was deleted meanwhile.
            if (e.statusCode() == 412 || e.statusCode() == 409 || e instanceof NoSuchKeyException) {
                throw new VersionConflictException(stored.sessionId(), stored.version() - 1,
                        readHead(stored.sessionId()).map(h -> h.stored().version()).orElse(0L));
            }
            throw e;
        }
    }

    private static void checkVersion(String sessionId, long expectedVersion, Optional<Head> head) {
        long current = head.map(h -> h.stored().version()).orElse(0L);
        if (current != expectedVersion) {
            throw new VersionConflictException(sessionId, expectedVersion, current);
        }
    }

    /** Streams {@code in} to {@code key}, holding at most one part in memory; returns its length. */
    private long upload(String key, InputStream in, MessageDigest sha) throws IOException {
        byte[] part = new byte[partSize];
        int first = readPart(in, part, 0, sha);
        if (first < partSize) {
            s3.putObject(b -> b.bucket(bucket).key(key).contentType("application/octet-stream"),
                    RequestBody.fromContentProvider(() -> new ByteArrayInputStream(part, 0, first), first, "application/octet-stream"));
            return first;
        }
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key).contentType("application/octet-stream")).uploadId();
        try {
            List<CompletedPart> parts = new ArrayList<>();
            long total = 0;
            for (int length = first; length > 0; length = readPart(in, part, total, sha)) {
                int number = parts.size() + 1;
                int n = length;
                String eTag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(number).contentLength((long) n),
                        RequestBody.fromContentProvider(() -> new ByteArrayInputStream(part, 0, n), n, "application/octet-stream")).eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(eTag).build());
                total += length;
                if (length < partSize) {
                    break;
                }
            }
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId).multipartUpload(m -> m.parts(parts)));
            return total;
        } catch (IOException | RuntimeException e) {
            try {
                s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
            } catch (SdkException abortFailed) {
                e.addSuppressed(abortFailed);
            }
            throw e;
        }
    }

    /** Fills {@code part} from {@code in} (short only at the end of the stream), enforcing the size limit. */
    private int readPart(InputStream in, byte[] part, long before, MessageDigest sha) throws IOException {
        int filled = 0;
        for (int n; filled < part.length && (n = in.read(part, filled, part.length - filled)) >= 0; ) {
            filled += n;
            if (before + filled > maxBytes) {
                throw new BlobTooLargeException(maxBytes);
            }
        }
        sha.update(part, 0, filled);
        return filled;
    }

    private void deleteQuietly(String key) {
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (SdkException e) {
            // The sweep removes it once it is older than the TTL.
            log.warn("could not delete s3 object {}: {}", key, e.toString());
        }
    }
}
