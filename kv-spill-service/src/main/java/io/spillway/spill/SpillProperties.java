package io.spillway.spill;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Everything the spill service reads from Spring properties ({@code spillway.spill.*}); the README has the table.
 *
 * @param store         where blobs live: {@code filesystem} (under {@code dir}) or {@code s3}
 * @param dir           where the filesystem store keeps blobs and their metadata (default in kv-spill-service.properties,
 *                      because it is relative to {@code java.io.tmpdir})
 * @param maxBytes      largest blob accepted
 * @param ttl           spills not rewritten for this long are deleted by the sweep
 * @param sweepInterval how often the sweep runs
 * @param tokens        bearer tokens the other services present; none configured means every request is refused
 * @param s3            the S3 store's bucket and client
 * @param kafka         the session directory's Kafka; off while {@code bootstrap-servers} is empty
 */
@ConfigurationProperties("spillway.spill")
public record SpillProperties(@DefaultValue("filesystem") StoreKind store, Path dir, @DefaultValue("1GB") DataSize maxBytes,
                              @DefaultValue("7d") Duration ttl, @DefaultValue("10m") Duration sweepInterval,
                              @DefaultValue List<String> tokens, @DefaultValue S3 s3, @DefaultValue Kafka kafka) {

    public enum StoreKind { FILESYSTEM, S3 }

    /**
     * @param bucket          the bucket (must exist)
     * @param prefix          key prefix of everything this service writes
     * @param endpoint        a non-AWS endpoint (MinIO, Ceph, s3proxy, ...); AWS's own when empty
     * @param region          signing region
     * @param pathStyleAccess {@code http://host/bucket/key} rather than {@code http://bucket.host/key} (most non-AWS servers)
     * @param accessKey       static credentials; the SDK's default provider chain (environment, profile, instance role) when empty
     * @param secretKey       goes with {@code accessKey}
     * @param partSize        multipart part size: the most of one upload held in memory (S3's minimum is 5 MiB)
     */
    public record S3(String bucket, @DefaultValue("spillway/") String prefix, URI endpoint, @DefaultValue("us-east-1") String region,
                     @DefaultValue("false") boolean pathStyleAccess, String accessKey, String secretKey,
                     @DefaultValue("8MB") DataSize partSize) {
    }

    /**
     * @param bootstrapServers  the brokers; the session directory is off when empty
     * @param schemaRegistryUrl Confluent-compatible registry of the {@code SessionState} schema
     * @param sessionsTopic     the compacted topic the workers write session states to
     * @param applicationId     Kafka Streams application id (prefix of its client ids)
     * @param sendTimeout       how long writing a DELETED state may take before it is given up (and logged)
     * @param properties        extra Kafka client settings (TLS, SASL, ...) for Streams and the producer
     */
    public record Kafka(@DefaultValue("") String bootstrapServers, @DefaultValue("http://localhost:8081") String schemaRegistryUrl,
                        @DefaultValue("spillway.sessions") String sessionsTopic,
                        @DefaultValue("spillway-kv-spill-service") String applicationId,
                        @DefaultValue("10s") Duration sendTimeout, @DefaultValue Map<String, String> properties) {
    }
}
