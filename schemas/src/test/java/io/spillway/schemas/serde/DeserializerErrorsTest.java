package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.SampleRecords;
import io.spillway.schemas.SessionState;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every way a record can be unreadable ends in a SerializationException that says why. */
class DeserializerErrorsTest {

  private static final String TOPIC = "spillway.requests";

  private static EmbeddedSchemaRegistry registry;
  private static SchemaRegistryClient client;
  private static SpillwayAvroDeserializer<InferenceRequest> deserializer;
  private static byte[] valid;

  @BeforeAll
  static void start() {
    registry = EmbeddedSchemaRegistry.start(0);
    client = SchemaRegistryClient.builder(registry.url()).build();
    deserializer = new SpillwayAvroDeserializer<>(client, InferenceRequest.class);
    try (SpillwayAvroSerializer<InferenceRequest> serializer = new SpillwayAvroSerializer<>(client)) {
      valid = serializer.serialize(TOPIC, SampleRecords.chatRequest());
    }
  }

  @AfterAll
  static void stop() {
    client.close();
    registry.close();
  }

  @Test
  void theValidRecordReads() {
    assertThat(deserializer.deserialize(TOPIC, valid)).isEqualTo(SampleRecords.chatRequest());
  }

  @Test
  void json() {
    byte[] json = "{\"requestId\":\"r-1\",\"sessionId\":\"s\"}".getBytes(StandardCharsets.UTF_8);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, json))
        .isInstanceOf(SerializationException.class)
        .hasMessage(
            "cannot deserialize a record of topic 'spillway.requests' as io.spillway.schemas.InferenceRequest:"
                + " unknown magic byte 0x7b: not Confluent-framed Avro (JSON?)");
  }

  @Test
  void garbage() {
    byte[] garbage = new byte[64];
    new Random(7).nextBytes(garbage);
    garbage[0] = (byte) 0x9c;

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, garbage))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown magic byte 0x9c");
  }

  @Test
  void truncatedHeader() {
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, Arrays.copyOf(valid, 3)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("too short for Confluent-framed Avro: 3 bytes");
    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, new byte[0]))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void truncatedAvroData() {
    byte[] cut = Arrays.copyOf(valid, valid.length - 10);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, cut))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Avro data of schema id " + ConfluentWireFormat.schemaId(valid) + " is truncated or malformed");
  }

  @Test
  void bytesLeftOverMeanTheWrongSchema() {
    byte[] longer = Arrays.copyOf(valid, valid.length + 3);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, longer))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("bytes left over after the record");
  }

  @Test
  void unknownSchemaId() {
    byte[] unknown = valid.clone();
    System.arraycopy(ConfluentWireFormat.header(9999), 0, unknown, 0, ConfluentWireFormat.HEADER_LENGTH);

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, unknown))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("unknown schema id 9999")
        .hasMessageContaining("40403");
  }

  @Test
  void aRecordOfAnotherTypeIsNamedAsSuch() {
    byte[] session;
    try (SpillwayAvroSerializer<SessionState> serializer = new SpillwayAvroSerializer<>(client)) {
      session = serializer.serialize("spillway.sessions", SampleRecords.spilledSession());
    }

    assertThatThrownBy(() -> deserializer.deserialize(TOPIC, session))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("(io.spillway.schemas.SessionState) cannot be read as io.spillway.schemas.InferenceRequest")
        .hasMessageContaining("NAME_MISMATCH");
  }

  @Test
  void anUnreachableRegistryIsNotTheRecordsFault() {
    EmbeddedSchemaRegistry gone = EmbeddedSchemaRegistry.start(0);
    String url = gone.url();
    gone.close();
    try (SchemaRegistryClient unreachable = SchemaRegistryClient.builder(url).build();
        SpillwayAvroDeserializer<InferenceRequest> reader =
            new SpillwayAvroDeserializer<>(unreachable, InferenceRequest.class)) {

      assertThatThrownBy(() -> reader.deserialize(TOPIC, valid))
          .isInstanceOf(SchemaRegistryUnavailableException.class)
          .isNotInstanceOf(SerializationException.class)
          .hasMessageContaining("GET " + url + "/schemas/ids/");
    }
  }
}
