package io.spillway.spill;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3SpillStoreTest extends SpillStoreContractTest {
    @TempDir
    static Path blobs;
    private static S3TestServer server;
    private static S3Client s3;

    /** Each test writes under a prefix of its own in the shared bucket. */
    private String prefix;

    @BeforeAll
    static void startServer() throws Exception {
        server = new S3TestServer(blobs);
        s3 = server.client();
    }

    @AfterAll
    static void stopServer() throws Exception {
        s3.close();
        server.close();
    }

    @BeforeEach
    void freshPrefix() {
        prefix = "test-" + UUID.randomUUID() + "/";
    }

    @AfterEach
    void noUnfinishedUploads() {
        assertThat(s3.listMultipartUploads(b -> b.bucket(S3TestServer.BUCKET).prefix(prefix)).uploads()).isEmpty();
    }

    @Override
    SpillStore store(long maxBytes) {
        return new S3SpillStore(s3, S3TestServer.BUCKET, prefix, maxBytes, TTL, S3SpillStore.MIN_PART_SIZE);
    }

    @Override
    List<String> storedObjects() {
        return s3.listObjectsV2Paginator(b -> b.bucket(S3TestServer.BUCKET).prefix(prefix)).contents().stream().map(S3Object::key).toList();
    }

    @Override
    void leaveStraysOfAKilledPut(String sessionId) {
        String key = prefix + "blobs/" + sessionId + "/2-" + UUID.randomUUID();
        s3.putObject(b -> b.bucket(S3TestServer.BUCKET).key(key), RequestBody.fromString("uploaded, head never written"));
        s3.createMultipartUpload(b -> b.bucket(S3TestServer.BUCKET).key(key + "-multipart"));
    }

    @Test
    void theServerRefusesAStaleConditionalWrite() {
        // What the store's cross-instance guarantee rests on: the server itself checks If-Match / If-None-Match.
        String key = prefix + "conditional";
        s3.putObject(b -> b.bucket(S3TestServer.BUCKET).key(key).ifNoneMatch("*"), RequestBody.fromString("1"));
        String eTag = s3.headObject(b -> b.bucket(S3TestServer.BUCKET).key(key)).eTag();
        assertThatThrownBy(() -> s3.putObject(b -> b.bucket(S3TestServer.BUCKET).key(key).ifNoneMatch("*"), RequestBody.fromString("2")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(412));
        s3.putObject(b -> b.bucket(S3TestServer.BUCKET).key(key).ifMatch(eTag), RequestBody.fromString("3"));
        assertThatThrownBy(() -> s3.putObject(b -> b.bucket(S3TestServer.BUCKET).key(key).ifMatch(eTag), RequestBody.fromString("4")))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(412));
        // The sweep deletes a head only if it is still the one it judged expired.
        assertThatThrownBy(() -> s3.deleteObject(b -> b.bucket(S3TestServer.BUCKET).key(key).ifMatch(eTag)))
                .isInstanceOfSatisfying(S3Exception.class, e -> assertThat(e.statusCode()).isEqualTo(412));
        String current = s3.headObject(b -> b.bucket(S3TestServer.BUCKET).key(key)).eTag();
        s3.deleteObject(b -> b.bucket(S3TestServer.BUCKET).key(key).ifMatch(current));
        assertThat(storedObjects()).isEmpty();
    }

    @Test
    void twoInstancesOverOneBucketCannotOverwriteEachOther() throws Exception {
        // Separate stores share no lock: only the conditional head write stands between them.
        SpillStore first = store(1 << 20);
        SpillStore second = store(1 << 20);
        first.put("s", 0, new ByteArrayInputStream(new byte[] {1}));
        assertThatThrownBy(() -> second.put("s", 0, new ByteArrayInputStream(new byte[] {2}))).isInstanceOf(VersionConflictException.class);
        assertThat(second.put("s", 1, new ByteArrayInputStream(new byte[] {3})).version()).isEqualTo(2);
        assertThatThrownBy(() -> first.put("s", 1, new ByteArrayInputStream(new byte[] {4})))
                .isInstanceOfSatisfying(VersionConflictException.class, e -> assertThat(e.currentVersion()).isEqualTo(2));
        try (StoredBlob read = first.get("s").orElseThrow()) {
            assertThat(read.content().readAllBytes()).containsExactly(3);
        }
        assertThat(storedObjects()).hasSize(2);
    }

    @Test
    void refusesABadBucketOrPartSize() {
        assertThatThrownBy(() -> new S3SpillStore(s3, S3TestServer.BUCKET, prefix, 1 << 20, TTL, 1 << 20))
                .hasMessageContaining("part-size");
        assertThatThrownBy(() -> new S3SpillStore(s3, "", prefix, 1 << 20, TTL, S3SpillStore.MIN_PART_SIZE)).hasMessageContaining("bucket");
        assertThatThrownBy(() -> new S3SpillStore(s3, "no-such-bucket", prefix, 1 << 20, TTL, S3SpillStore.MIN_PART_SIZE))
                .hasMessageContaining("bucket no-such-bucket does not exist");
    }
}
