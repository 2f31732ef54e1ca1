package io.spillway.spill;

import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;

/** s3proxy in-process over its filesystem blob store: a real S3 API server (SigV4, multipart, conditional writes). */
final class S3TestServer implements AutoCloseable {
    static final String ACCESS_KEY = "spillway-test";
    static final String SECRET_KEY = "spillway-test-secret";
    static final String BUCKET = "spills";

    private final S3Proxy proxy;

    S3TestServer(Path dir) throws Exception {
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", Files.createDirectories(dir).toString());
        proxy = S3Proxy.builder().blobStore(BlobStores.create("filesystem", properties)).endpoint(URI.create("http://127.0.0.1:0"))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
        proxy.start();
        while (!proxy.getState().equals("STARTED")) {
            Thread.sleep(10);
        }
        try (S3Client client = client()) {
            if (client.listBuckets().buckets().stream().noneMatch(b -> b.name().equals(BUCKET))) {
                client.createBucket(b -> b.bucket(BUCKET));
            }
        }
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + proxy.getPort());
    }

    S3Client client() {
        return S3Client.builder().endpointOverride(endpoint()).region(Region.US_EAST_1).forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY))).build();
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }
}
