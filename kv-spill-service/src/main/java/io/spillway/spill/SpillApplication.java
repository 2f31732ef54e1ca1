package io.spillway.spill;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.PropertySource;
import org.springframework.scheduling.annotation.EnableScheduling;

import java.io.IOException;

/**
 * The KV spill service: stores, serves and deletes spilled KV caches as opaque blobs. Its defaults
 * live in {@code kv-spill-service.properties}, not {@code application.properties}, so it can share a
 * JVM (the embedded launcher) with the other services.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
@PropertySource("classpath:kv-spill-service.properties")
public class SpillApplication {

    @Bean
    SpillStore spillStore(SpillProperties properties) throws IOException {
        return new FileSpillStore(properties.dir(), properties.maxBytes().toBytes(), properties.ttl());
    }

    /** Only the spill API is guarded: actuator health stays reachable for probes. */
    @Bean
    FilterRegistrationBean<BearerTokenFilter> bearerTokenFilter(SpillProperties properties) {
        FilterRegistrationBean<BearerTokenFilter> registration = new FilterRegistrationBean<>(new BearerTokenFilter(properties.tokens()));
        registration.addUrlPatterns("/v1/*");
        return registration;
    }

    public static void main(String[] args) {
        SpringApplication.run(SpillApplication.class, args);
    }
}
