package io.spillway.embedded;

import io.spillway.gateway.GatewayApplication;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.registry.KafkaSchemaStore;
import io.spillway.spill.SpillApplication;
import io.spillway.worker.WorkerApplication;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The embedded default: a single-node KRaft Kafka broker (Apache Kafka's own server classes,
 * in-process), the embedded schema registry with its schemas in the compacted {@code _schemas}
 * topic, the spill service, the inference worker and the gateway, in one JVM. For laptops and CI; clusters use real
 * Kafka and a real registry.
 */
public final class EmbeddedSpillway implements AutoCloseable {
    public static final String REQUESTS = "spillway.requests";
    public static final String EVENTS = "spillway.events";
    public static final String DEAD_LETTERS = "spillway.requests.dlq";
    public static final String SESSIONS = "spillway.sessions";
    public static final String JOBS = "spillway.jobs";
    public static final String JOB_EVENTS = "spillway.job-events";
    public static final String SUMMARIES = "spillway.summaries";
    public static final String JOB_DEAD_LETTERS = "spillway.jobs.dlq";
    /** The services of one embedded JVM share a fresh random token for the spill service's API. */
    private static final String SPILL_TOKEN = java.util.UUID.randomUUID().toString();

    private final EmbeddedKafkaKraftBroker kafka;
    private final KafkaSchemaStore schemaStore;
    private final EmbeddedSchemaRegistry registry;
    private final List<ConfigurableApplicationContext> services = new ArrayList<>();
    private final ConfigurableApplicationContext gateway;

    private EmbeddedSpillway(EmbeddedOptions o) {
        quietBroker();
        kafka = new EmbeddedKafkaKraftBroker(1, o.partitions());
        // No fixed Kafka port: the KRaft test kit picks its own (spring-kafka#2916); the address is printed.
        kafka.brokerProperty("log.dir", o.dataDir().resolve("kafka").toString());
        singleBrokerTransactions(kafka);
        kafka.afterPropertiesSet();
        kafka.addTopics(topics(o.partitions()).toArray(NewTopic[]::new));
        schemaStore = new KafkaSchemaStore(kafka.getBrokersAsString(), "_schemas");
        registry = EmbeddedSchemaRegistry.start(new InetSocketAddress("127.0.0.1", o.registryPort()), schemaStore);
        services.addAll(startServices(o, kafka.getBrokersAsString(), registry.url()));
        gateway = services.getLast();
    }

    /**
     * Starts the spill service, the worker, then the gateway (last in the list), against any Kafka
     * and any Confluent-compatible registry. The services share this JVM's classpath: each reads its own
     * config file by name.
     */
    public static List<ConfigurableApplicationContext> startServices(EmbeddedOptions o, String bootstrapServers, String registryUrl) {
        var spill = service(SpillApplication.class).run(
                "--spring.config.name=kv-spill-service", "--server.port=" + o.spillPort(),
                "--spillway.spill.dir=" + o.dataDir().resolve("spills"), "--spillway.spill.tokens=" + SPILL_TOKEN,
                "--spillway.spill.kafka.bootstrap-servers=" + bootstrapServers, "--spillway.spill.kafka.schema-registry-url=" + registryUrl);
        var worker = service(WorkerApplication.class).run(
                "--spring.config.name=inference-worker", "--server.port=" + o.workerPort(),
                "--spillway.worker.model=" + o.model(), "--spillway.worker.kv=" + o.kv(),
                "--spillway.worker.spill.url=http://localhost:" + spill.getEnvironment().getProperty("local.server.port"),
                "--spillway.worker.spill.token=" + SPILL_TOKEN,
                "--spillway.worker.kafka.bootstrap-servers=" + bootstrapServers,
                "--spillway.worker.kafka.schema-registry-url=" + registryUrl);
        // Every context re-initializes logging: the in-process broker's loggers stay quiet only if each says so.
        var gateway = service(GatewayApplication.class).run("--server.port=" + o.httpPort(),
                "--spillway.gateway.api-keys=" + o.apiKey() + ":embedded", "--spillway.gateway.models=tiny-llama",
                "--spillway.kafka.bootstrap-servers=" + bootstrapServers, "--spillway.schema-registry.url=" + registryUrl,
                "--spillway.jobs.model=" + o.model(), "--spillway.jobs.state-dir=" + o.dataDir().resolve("jobs-state"));
        return List.of(spill, worker, gateway);
    }

    /** The job flow's exactly-once transactions need a transaction log this one broker can hold. */
    public static void singleBrokerTransactions(EmbeddedKafkaKraftBroker kafka) {
        kafka.brokerProperty("transaction.state.log.replication.factor", "1");
        kafka.brokerProperty("transaction.state.log.min.isr", "1");
    }

    /**
     * Spring's own shutdown hooks would close the services all at once on Ctrl-C: the worker could no
     * longer spill its sessions to a spill service already gone. {@link #close} stops them in order.
     */
    private static SpringApplicationBuilder service(Class<?> application) {
        return new SpringApplicationBuilder(application).properties(WorkerApplication.LOGGING).registerShutdownHook(false);
    }

    /** The topics of docs/KAFKA.md, with the compacted session directory. */
    public static List<NewTopic> topics(int partitions) {
        // A job's model answers come back on the job's own partition: jobs and job events have as many.
        return List.of(new NewTopic(REQUESTS, partitions, (short) 1), new NewTopic(EVENTS, partitions, (short) 1),
                new NewTopic(DEAD_LETTERS, 1, (short) 1),
                new NewTopic(SESSIONS, partitions, (short) 1).configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)),
                new NewTopic(JOBS, partitions, (short) 1), new NewTopic(JOB_EVENTS, partitions, (short) 1),
                new NewTopic(SUMMARIES, partitions, (short) 1), new NewTopic(JOB_DEAD_LETTERS, 1, (short) 1));
    }

    public static EmbeddedSpillway start(EmbeddedOptions options) {
        return new EmbeddedSpillway(options);
    }

    public String bootstrapServers() {
        return kafka.getBrokersAsString();
    }

    public String registryUrl() {
        return registry.url();
    }

    /** The gateway's OpenAI base URL, e.g. {@code http://localhost:8080/v1}. */
    public String apiUrl() {
        return "http://localhost:" + gateway.getEnvironment().getProperty("local.server.port") + "/v1";
    }

    public String spillPort() {
        return services.getFirst().getEnvironment().getProperty("local.server.port");
    }

    /** Stops the services first (they drain), then the registry and the broker. */
    @Override
    public void close() {
        for (int i = services.size() - 1; i >= 0; i--) {
            services.get(i).close();
        }
        registry.close();
        schemaStore.close();
        kafka.destroy();
    }

    /** Where {@code bin/spillway up} lands. */
    public static void main(String[] args) throws InterruptedException {
        EmbeddedOptions options;
        try {
            var parsed = EmbeddedOptions.parseOrHelp(args);
            if (parsed.isEmpty()) {
                return;
            }
            options = parsed.get();
        } catch (IllegalArgumentException e) {
            System.err.println("spillway up: " + e.getMessage() + " (see --help)");
            System.exit(2);
            return;
        }
        EmbeddedSpillway spillway = start(options);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(spillway::close));
        String api = spillway.apiUrl();
        System.out.printf("%nSpillway is up (embedded: one JVM, for laptops and CI). Ctrl-C stops it.%n"
                        + "  OpenAI API:      %s   (API key: %s)%n  Kafka:           %s%n  schema registry: %s%n"
                        + "  spill service:   http://localhost:%s/v1/spills%n%n"
                        + "Try:%n  curl %s/chat/completions -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\%n"
                        + "    -H 'X-Session-Id: demo' -d '{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", "
                        + "\"content\": \"Tell me about the whale.\"}], \"max_tokens\": 40}'%n%n",
                api, options.apiKey(), spillway.bootstrapServers(), spillway.registryUrl(), spillway.spillPort(), api, options.apiKey());
        Thread.currentThread().join();
    }

    /** The in-process broker logs its every step at INFO; the services' own logs are what a user reads. */
    private static void quietBroker() {
        for (String name : List.of("kafka", "org.apache.kafka", "state.change.logger")) {
            if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger l) {
                l.setLevel(ch.qos.logback.classic.Level.WARN);
            }
        }
    }

    static Path home() {
        return Path.of(System.getProperty("spillway.home", "."));
    }
}
