package io.spillway.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.PropertySource;

/**
 * The inference worker: Kafka requests in, engine generations, Kafka events out. Its defaults live
 * in {@code inference-worker.properties}, not {@code application.properties}, so it can share a JVM
 * (the embedded launcher) with the other services.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@PropertySource("classpath:inference-worker.properties")
public class WorkerApplication {
    /** Logging settings must be known before property sources are read, so they are defaults here. */
    public static final java.util.Map<String, Object> LOGGING = java.util.Map.of(
            "logging.structured.format.console", "logstash", "logging.level.org.apache.kafka", "warn", "logging.level.kafka", "warn",
            "logging.level.state.change.logger", "warn");

    public static void main(String[] args) {
        SpringApplication app = new SpringApplication(WorkerApplication.class);
        app.setDefaultProperties(LOGGING);
        app.run(args);
    }
}
