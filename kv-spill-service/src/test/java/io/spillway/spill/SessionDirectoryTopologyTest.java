package io.spillway.spill;

import io.spillway.schemas.SessionState;
import io.spillway.schemas.SessionStatus;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class SessionDirectoryTopologyTest {
    private static final String TOPIC = "spillway.sessions";
    private static EmbeddedSchemaRegistry registryServer;
    private static SchemaRegistryClient registry;

    private TopologyTestDriver driver;
    private TestInputTopic<String, SessionState> sessions;
    private KeyValueStore<String, SessionState> store;

    @BeforeAll
    static void startRegistry() {
        registryServer = EmbeddedSchemaRegistry.start(0);
        registry = SchemaRegistryClient.builder(registryServer.url()).build();
    }

    @AfterAll
    static void stopRegistry() {
        registry.close();
        registryServer.close();
    }

    @BeforeEach
    void startDriver() {
        Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, "directory-test");
        config.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, SkipUnreadableRecords.class);
        driver = new TopologyTestDriver(SessionDirectoryTopology.build(TOPIC,
                Serdes.serdeFrom(new SpillwayAvroSerializer<>(registry), new SpillwayAvroDeserializer<>(registry, SessionState.class))), config);
        sessions = driver.createInputTopic(TOPIC, new StringSerializer(), new SpillwayAvroSerializer<>(registry));
        store = driver.getKeyValueStore(SessionDirectoryTopology.STORE);
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    @Test
    void aNewerVersionReplacesTheEntryAndAnOlderOrEqualOneDoesNot() {
        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 1));
        sessions.pipeInput("s1", state("s1", SessionStatus.SPILLED, 2));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.SPILLED);

        // A stale worker still thinks it holds the session.
        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 1));
        assertThat(store.get("s1").getVersion()).isEqualTo(2);
        // The same version twice: the first in the log stays.
        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 2));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.SPILLED);

        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 3));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.HOT);
        assertThat(store.get("s1").getWorkerId()).isEqualTo("worker-a");
    }

    @Test
    void aSessionIdUsedAgainAfterItsSpillWasDeletedStartsANewLifeAtTheStoresRestartedVersions() {
        // Store version 2 spilled (entry 4), then deleted: DELETED at 5.
        sessions.pipeInput("s1", state("s1", SessionStatus.SPILLED, 4));
        sessions.pipeInput("s1", state("s1", SessionStatus.DELETED, 5));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.DELETED);

        // The id comes back: the store starts again at version 0, so the worker writes HOT 1, then SPILLED 2.
        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 1));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.HOT);
        assertThat(store.get("s1").getVersion()).isEqualTo(1);
        sessions.pipeInput("s1", state("s1", SessionStatus.SPILLED, 2));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.SPILLED);
        // Within the new life the version rule holds again.
        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 1));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.SPILLED);
        assertThat(store.get("s1").getVersion()).isEqualTo(2);
    }

    @Test
    void theNewLifeStartsEvenWhenItsFirstUpdateWasLost() {
        sessions.pipeInput("s1", state("s1", SessionStatus.DELETED, 9));
        // HOT 1 never reached the topic (the directory is advisory; a failed send is only logged).
        sessions.pipeInput("s1", state("s1", SessionStatus.SPILLED, 2));
        assertThat(store.get("s1").getState()).isEqualTo(SessionStatus.SPILLED);
        assertThat(store.get("s1").getVersion()).isEqualTo(2);
    }

    @Test
    void aTombstoneRemovesTheEntry() {
        sessions.pipeInput("s1", state("s1", SessionStatus.SPILLED, 3));
        sessions.pipeInput("s2", state("s2", SessionStatus.HOT, 1));
        sessions.pipeInput("s1", (SessionState) null);
        assertThat(store.get("s1")).isNull();
        assertThat(store.get("s2")).isNotNull();
    }

    @Test
    void recordsWhoseKeyIsNotTheirSessionOrThatCannotBeReadAreSkipped() {
        sessions.pipeInput("s1", state("s1", SessionStatus.HOT, 1));
        sessions.pipeInput("s1", state("other", SessionStatus.SPILLED, 9));
        driver.createInputTopic(TOPIC, new StringSerializer(), new ByteArraySerializer())
                .pipeInput("s1", "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8));
        sessions.pipeInput("s2", state("s2", SessionStatus.HOT, 1));

        assertThat(store.get("s1").getVersion()).isEqualTo(1);
        assertThat(store.get("other")).isNull();
        // The directory kept going past the unreadable record.
        assertThat(store.get("s2")).isNotNull();
    }

    @Test
    void theDirectorySkipsUndecodableRecordsButFailsRatherThanSkipWhenTheRegistryIsDown() {
        // TopologyTestDriver always logs and continues for global stores, so the handler the service configures is checked here.
        SkipUnreadableRecords handler = new SkipUnreadableRecords();
        ConsumerRecord<byte[], byte[]> record = new ConsumerRecord<>(TOPIC, 0, 7, new byte[0], new byte[] {0x7b});
        assertThat(handler.handleError(null, record, new SerializationException("not framed")).result())
                .isEqualTo(DeserializationExceptionHandler.Result.RESUME);
        assertThat(handler.handleError(null, record, new SchemaRegistryUnavailableException("registry down", null)).result())
                .isEqualTo(DeserializationExceptionHandler.Result.FAIL);
    }

    static SessionState state(String sessionId, SessionStatus status, long version) {
        return SessionState.newBuilder().setSessionId(sessionId).setApiKeyId("key-1").setState(status)
                .setWorkerId(status == SessionStatus.HOT ? "worker-a" : null)
                .setLocation(status == SessionStatus.SPILLED ? "http://spill:8083/v1/spills/" + sessionId : null)
                .setKvMethod("rotatekv2/v1").setTokenCount(100).setBytes(4096).setModelFingerprint("fp")
                .setUpdatedAtMs(System.currentTimeMillis()).setVersion(version).build();
    }
}
