package io.spillway.spill;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Spills as files in one folder. A session's blob is {@code <id>.<version>.blob}; its sidecar
 * {@code <id>.meta} names the version and is the commit point: a put streams the blob to a temp file,
 * forces it to disk and renames it atomically, then does the same for the sidecar. A reader thus sees
 * the old version or the new one whole, and a put that fails anywhere before the sidecar rename leaves
 * the old version untouched.
 *
 * <p>Uploads stream without a lock (a slow upload must not block readers); the version is checked
 * again under the session's lock right before the commit, so of two puts of the same expected version
 * exactly one wins.
 */
public final class FileSpillStore implements SpillStore {
    private static final String META = ".meta";
    private static final String BLOB = ".blob";
    private static final String TEMP = ".tmp";

    private final Path dir;
    private final long maxBytes;
    private final Duration ttl;
    private final SessionLocks locks = new SessionLocks();

    public FileSpillStore(Path dir, long maxBytes, Duration ttl) throws IOException {
        this.dir = Files.createDirectories(dir).toRealPath();
        this.maxBytes = maxBytes;
        this.ttl = ttl;
    }

    @Override
    public Stored put(String sessionId, long expectedVersion, InputStream blob) throws IOException {
        SessionIds.require(sessionId);
        if (expectedVersion < 0) {
            throw new IllegalArgumentException("expected version must be >= 0: " + expectedVersion);
        }
        // Fail fast before a possibly long upload; the check that counts is the one under the lock below.
        checkVersion(sessionId, expectedVersion, currentVersion(sessionId));
        long version = expectedVersion + 1;
        Path blobTemp = tempFile(sessionId);
        Path metaTemp = null;
        try {
            MessageDigest sha = Stored.sha256Digest();
            long bytes = writeDurably(blobTemp, out -> copyLimited(blob, new DigestOutputStream(out, sha)));
            Stored stored = new Stored(sessionId, version, bytes, HexFormat.of().formatHex(sha.digest()), Instant.now());
            metaTemp = tempFile(sessionId);
            writeDurably(metaTemp, out -> writeMeta(stored, out));
            Path meta = metaTemp;
            locks.withLock(sessionId, () -> {
                checkVersion(sessionId, expectedVersion, currentVersion(sessionId));
                Files.move(blobTemp, blobPath(sessionId, version), StandardCopyOption.ATOMIC_MOVE);
                Files.move(meta, metaPath(sessionId), StandardCopyOption.ATOMIC_MOVE);
                forceDirectory();
                if (expectedVersion > 0) {
                    Files.deleteIfExists(blobPath(sessionId, expectedVersion));
                }
                return null;
            });
            return stored;
        } finally {
            Files.deleteIfExists(blobTemp);
            if (metaTemp != null) {
                Files.deleteIfExists(metaTemp);
            }
        }
    }

    @Override
    public Optional<Stored> find(String sessionId) throws IOException {
        SessionIds.require(sessionId);
        // The sidecar is replaced by an atomic rename: a reader sees the old one or the new one, whole.
        return readMeta(sessionId);
    }

    @Override
    public Optional<StoredBlob> get(String sessionId) throws IOException {
        SessionIds.require(sessionId);
        // Under the lock so a concurrent put cannot delete the blob between reading the sidecar and opening the file;
        // once open, the stream survives the file's deletion.
        return locks.withLock(sessionId, () -> {
            Optional<Stored> stored = readMeta(sessionId);
            if (stored.isEmpty()) {
                return Optional.empty();
            }
            InputStream content = Files.newInputStream(blobPath(sessionId, stored.get().version()));
            return Optional.of(new StoredBlob(stored.get(), content));
        });
    }

    @Override
    public boolean delete(String sessionId) throws IOException {
        SessionIds.require(sessionId);
        return removeIf(sessionId, stored -> true);
    }

    @Override
    public List<String> expire(Instant now) throws IOException {
        Instant cutoff = now.minus(ttl);
        List<String> expired = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(META)) {
                    String sessionId = name.substring(0, name.length() - META.length());
                    if (removeIf(sessionId, stored -> stored.storedAt().isBefore(cutoff))) {
                        expired.add(sessionId);
                    }
                } else if (isStray(name, file, cutoff)) {
                    Files.deleteIfExists(file);
                }
            }
        }
        return expired;
    }

    /** Deletes the session's sidecar and blob when it has one that {@code when} accepts; whether it did. */
    private boolean removeIf(String sessionId, java.util.function.Predicate<Stored> when) throws IOException {
        return locks.withLock(sessionId, () -> {
            Optional<Stored> stored = readMeta(sessionId);
            if (stored.isEmpty() || !when.test(stored.get())) {
                return false;
            }
            Files.delete(metaPath(sessionId));
            Files.deleteIfExists(blobPath(sessionId, stored.get().version()));
            return true;
        });
    }

    /**
     * Leftovers of a process killed mid-put: temp files, or a blob renamed in place whose sidecar never
     * followed. Only files older than the TTL count, so nothing a running put still owns is touched.
     */
    private boolean isStray(String name, Path file, Instant cutoff) throws IOException {
        try {
            if (!Files.getLastModifiedTime(file).toInstant().isBefore(cutoff)) {
                return false;
            }
        } catch (NoSuchFileException goneSinceListed) {
            return false;
        }
        if (name.endsWith(TEMP)) {
            return true;
        }
        if (!name.endsWith(BLOB)) {
            return false;
        }
        String stem = name.substring(0, name.length() - BLOB.length());
        int dot = stem.lastIndexOf('.');
        String version = stem.substring(dot + 1);
        if (dot <= 0 || !version.chars().allMatch(Character::isDigit)) {
            return false;
        }
        String sessionId = stem.substring(0, dot);
        return locks.withLock(sessionId, () -> !version.equals(Long.toString(currentVersion(sessionId))));
    }

    private static void checkVersion(String sessionId, long expectedVersion, long currentVersion) {
        if (currentVersion != expectedVersion) {
            throw new VersionConflictException(sessionId, expectedVersion, currentVersion);
        }
    }

    private long currentVersion(String sessionId) throws IOException {
        return readMeta(sessionId).map(Stored::version).orElse(0L);
    }

    private long copyLimited(InputStream in, OutputStream out) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buffer)) >= 0; ) {
            total += n;
            if (total > maxBytes) {
                throw new BlobTooLargeException(maxBytes);
            }
            out.write(buffer, 0, n);
        }
        out.flush();
        return total;
    }

    private interface Body {
        long writeTo(OutputStream out) throws IOException;
    }

    /** Writes a new file and forces it to disk, so the rename that follows never exposes a half-written file after a crash. */
    private static long writeDurably(Path file, Body body) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
            long bytes = body.writeTo(Channels.newOutputStream(channel));
            channel.force(true);
            return bytes;
        }
    }

    /** Makes the renames themselves durable. */
    private void forceDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    private static long writeMeta(Stored stored, OutputStream out) throws IOException {
        StoredProperties.write(stored, Map.of(), out);
        return 0;
    }

    private Optional<Stored> readMeta(String sessionId) throws IOException {
        try (InputStream in = Files.newInputStream(metaPath(sessionId))) {
            return Optional.of(StoredProperties.toStored(sessionId, StoredProperties.read(in)));
        } catch (NoSuchFileException absent) {
            return Optional.empty();
        }
    }

    private Path metaPath(String sessionId) {
        return dir.resolve(sessionId + META);
    }

    private Path blobPath(String sessionId, long version) {
        return dir.resolve(sessionId + "." + version + BLOB);
    }

    private Path tempFile(String sessionId) {
        return dir.resolve(sessionId + "." + UUID.randomUUID() + TEMP);
    }
}
