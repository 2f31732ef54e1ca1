package io.spillway.spill;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import software.amazon.awssdk.services.s3.S3Client;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The whole HTTP API again with the S3 store on s3proxy: 64 MiB streams through multipart uploads both ways. */
class S3SpillApiTest extends SpillApiTest {
    private static final Path S3_DIR;
    private static final S3TestServer S3;

    static {
        try {
            S3_DIR = Files.createTempDirectory("spill-api-s3");
            S3 = new S3TestServer(S3_DIR);
        } catch (Exception e) {
            throw new IllegalStateException("s3proxy did not start", e);
        }
    }

    @DynamicPropertySource
    static void s3Store(DynamicPropertyRegistry registry) {
        registry.add("spillway.spill.store", () -> "s3");
        registry.add("spillway.spill.s3.bucket", () -> S3TestServer.BUCKET);
        registry.add("spillway.spill.s3.endpoint", () -> S3.endpoint().toString());
        registry.add("spillway.spill.s3.path-style-access", () -> "true");
        registry.add("spillway.spill.s3.access-key", () -> S3TestServer.ACCESS_KEY);
        registry.add("spillway.spill.s3.secret-key", () -> S3TestServer.SECRET_KEY);
    }

    /** An upload refused (413) or cut off mid-way leaves no multipart upload behind. */
    @AfterEach
    void noUnfinishedUploads() {
        try (S3Client s3 = S3.client()) {
            assertThat(s3.listMultipartUploads(b -> b.bucket(S3TestServer.BUCKET)).uploads()).isEmpty();
        }
    }

    @AfterAll
    static void stopS3() throws Exception {
        S3.close();
        org.springframework.util.FileSystemUtils.deleteRecursively(S3_DIR);
    }
}
