package io.spillway.spill;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.PropertySource;
import org.springframework.scheduling.annotation.EnableScheduling;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

import java.io.IOException;
import java.util.Map;

/**
 * The KV spill service: stores, serves and deletes spilled KV caches as opaque blobs (on the filesystem or in S3),
 * and answers for the session directory when Kafka is configured. Its defaults
 * live in {@code kv-spill-service.properties}, not {@code application.properties}, so it can share a
 * JVM (the embedded launcher) with the other services.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
@PropertySource("classpath:kv-spill-service.properties")
public class SpillApplication {
    private static final String DIRECTORY_ON = "!'${spillway.spill.kafka.bootstrap-servers:}'.isBlank()";

    /**
     * Logging defaults, set before the context (a property file comes too late for logging): structured lines, and
     * the Kafka clients' per-step INFO logs off.
     */
    public static final Map<String, Object> LOGGING = Map.of("logging.structured.format.console", "logstash",
            "logging.level.org.apache.kafka", "warn");

    @Bean
    SpillStore spillStore(SpillProperties properties, ObjectProvider<S3Client> s3) throws IOException {
        long maxBytes = properties.maxBytes().toBytes();
        return switch (properties.store()) {
            case FILESYSTEM -> new FileSpillStore(properties.dir(), maxBytes, properties.ttl());
            case S3 -> new S3SpillStore(s3.getObject(), properties.s3().bucket(), properties.s3().prefix(), maxBytes, properties.ttl(),
                    properties.s3().partSize().toBytes());
        };
    }

    @Bean
    @ConditionalOnProperty(name = "spillway.spill.store", havingValue = "s3")
    S3Client s3Client(SpillProperties properties) {
        SpillProperties.S3 s3 = properties.s3();
        S3ClientBuilder builder = S3Client.builder().region(Region.of(s3.region())).forcePathStyle(s3.pathStyleAccess());
        if (s3.endpoint() != null) {
            builder.endpointOverride(s3.endpoint());
        }
        if (s3.accessKey() != null && !s3.accessKey().isBlank()) {
            builder.credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(s3.accessKey(), s3.secretKey())));
        }
        return builder.build();
    }

    /** On when Kafka is configured, so the service also runs alone (no Kafka) with the filesystem store. */
    @Bean
    @ConditionalOnExpression(DIRECTORY_ON)
    SessionDirectory sessionDirectory(SpillProperties properties) {
        return new SessionDirectory(properties.kafka());
    }

    @Bean
    @ConditionalOnExpression(DIRECTORY_ON)
    SessionDirectoryHealth sessionDirectoryHealthIndicator(SessionDirectory directory, SpillProperties properties) {
        return new SessionDirectoryHealth(directory, properties.kafka().sessionsTopic());
    }

    /** Only the spill API is guarded: actuator health stays reachable for probes. */
    @Bean
    FilterRegistrationBean<BearerTokenFilter> bearerTokenFilter(SpillProperties properties) {
        FilterRegistrationBean<BearerTokenFilter> registration = new FilterRegistrationBean<>(new BearerTokenFilter(properties.tokens()));
        registration.addUrlPatterns("/v1/*");
        return registration;
    }

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(SpillApplication.class);
        app.setDefaultProperties(LOGGING);
        app.run(args);
    }
}
