package io.spillway.spill;

import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import io.spillway.schemas.kafka.DeliveryConfig;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The session directory: where each session's KV cache is (HOT on a worker, SPILLED here, DELETED), read from the
 * compacted sessions topic by {@link SessionDirectoryTopology} and queried by {@link SessionController}. It also
 * writes the DELETED state when this service deletes a spilled session's blob.
 */
public final class SessionDirectory implements SmartLifecycle, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionDirectory.class);

    private final SpillProperties.Kafka kafka;
    private final SchemaRegistryClient registry;
    private final Path stateDir;
    private final KafkaStreams streams;
    private final Producer<String, SessionState> producer;
    private volatile boolean running;
    private boolean closed;

    /** One page of a listing; {@code next} is the {@code after} of the next page, null on the last. */
    public record Page(List<SessionState> sessions, String next) {
    }

    public SessionDirectory(SpillProperties.Kafka kafka) {
        this.kafka = kafka;
        this.registry = SchemaRegistryClient.builder(kafka.schemaRegistryUrl()).build();
        Serde<SessionState> sessions = Serdes.serdeFrom(new SpillwayAvroSerializer<>(registry),
                new SpillwayAvroDeserializer<>(registry, SessionState.class));
        try {
            // The store is in memory and rebuilt from the topic on every start: nothing under state.dir outlives the process.
            this.stateDir = Files.createTempDirectory("spillway-spill-streams");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.streams = new KafkaStreams(SessionDirectoryTopology.build(kafka.sessionsTopic(), sessions), new StreamsConfig(streamsConfig()));
        streams.setUncaughtExceptionHandler(e -> {
            log.error("session directory stopped", e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        this.producer = new KafkaProducer<>(producerConfig(), new StringSerializer(), new SpillwayAvroSerializer<>(registry));
    }

    private Map<String, Object> streamsConfig() {
        Map<String, Object> config = new HashMap<>();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, kafka.applicationId());
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        config.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, SkipUnreadableRecords.class);
        config.putAll(kafka.properties());
        return config;
    }

    private Map<String, Object> producerConfig() {
        // One record now and then, waited for: nothing to batch.
        return DeliveryConfig.producer(kafka.bootstrapServers(), kafka.applicationId() + "-deletions", 0, kafka.sendTimeout(),
                kafka.properties());
    }

    /** The entry of a session, DELETED ones included; empty when the directory never heard of it. */
    public Optional<SessionState> find(String sessionId) {
        return Optional.ofNullable(store().get(sessionId));
    }

    /**
     * Live (HOT or SPILLED) sessions in id order, after {@code after} (exclusive; null from the start), of one
     * worker when {@code workerId} is given. Filtering walks the store: fine for a directory of the size one
     * deployment's sessions make, not an index.
     */
    public Page list(String workerId, String after, int limit) {
        List<SessionState> page = new ArrayList<>();
        ReadOnlyKeyValueStore<String, SessionState> store = store();
        try (KeyValueIterator<String, SessionState> entries = after == null ? store.all() : store.range(after, null)) {
            while (entries.hasNext()) {
                KeyValue<String, SessionState> entry = entries.next();
                SessionState state = entry.value;
                if (entry.key.equals(after) || state.getState() == SessionStatus.DELETED
                        || (workerId != null && !workerId.equals(state.getWorkerId()))) {
                    continue;
                }
                if (page.size() == limit) {
                    return new Page(page, page.getLast().getSessionId());
                }
                page.add(state);
            }
        }
        return new Page(page, null);
    }

    /**
     * Records that this service deleted the spill of {@code sessionId} (API or TTL): a SPILLED entry becomes
     * DELETED with the next version. A HOT entry stays (the worker holds a newer cache than the deleted blob).
     * Best effort: the blob is gone either way, and a worker that follows a stale SPILLED entry gets a 404.
     */
    public void spillDeleted(String sessionId) {
        Optional<SessionState> current;
        try {
            current = find(sessionId);
        } catch (DirectoryUnavailableException e) {
            log.warn("spill deleted but the directory is not running, DELETED not written: session={}", sessionId);
            return;
        }
        if (current.isEmpty() || current.get().getState() != SessionStatus.SPILLED) {
            return;
        }
        SessionState deleted = SessionState.newBuilder(current.get()).setState(SessionStatus.DELETED).setWorkerId(null).setLocation(null)
                .setTokenCount(0).setBytes(0).setUpdatedAtMs(System.currentTimeMillis()).setVersion(current.get().getVersion() + 1).build();
        try {
            producer.send(new ProducerRecord<>(kafka.sessionsTopic(), sessionId, deleted)).get(kafka.sendTimeout().toMillis(), TimeUnit.MILLISECONDS);
            log.info("session state written: session={} state=DELETED version={}", sessionId, deleted.getVersion());
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            log.warn("could not write DELETED state: session={} version={} reason={}", sessionId, deleted.getVersion(), e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The Streams client's state (RUNNING once the store is rebuilt from the topic). */
    public KafkaStreams.State state() {
        return streams.state();
    }

    private ReadOnlyKeyValueStore<String, SessionState> store() {
        KafkaStreams.State state = streams.state();
        if (state != KafkaStreams.State.RUNNING) {
            throw new DirectoryUnavailableException("session directory is " + state);
        }
        try {
            return streams.store(StoreQueryParameters.fromNameAndType(SessionDirectoryTopology.STORE, QueryableStoreTypes.keyValueStore()));
        } catch (InvalidStateStoreException e) {
            throw new DirectoryUnavailableException("session directory store not queryable: " + e.getMessage());
        }
    }

    @Override
    public void start() {
        streams.start();
        running = true;
    }

    @Override
    public void stop() {
        close();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        running = false;
        streams.close(Duration.ofSeconds(10));
        streams.cleanUp();
        producer.close(Duration.ofSeconds(5));
        registry.close();
        try {
            Files.deleteIfExists(stateDir);
        } catch (IOException e) {
            log.debug("state dir {} left behind: {}", stateDir, e.toString());
        }
    }
}
