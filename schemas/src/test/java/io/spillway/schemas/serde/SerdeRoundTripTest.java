package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.SampleRecords;
import io.spillway.schemas.SessionState;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.registry.SchemaRegistryClient;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class SerdeRoundTripTest {

  private static EmbeddedSchemaRegistry registry;

  @BeforeAll
  static void startRegistry() {
    registry = EmbeddedSchemaRegistry.start(0);
  }

  @AfterAll
  static void stopRegistry() {
    registry.close();
  }

  static Iterable<SpecificRecord> samples() {
    return SampleRecords.all();
  }

  @ParameterizedTest
  @MethodSource("samples")
  <T extends SpecificRecord> void everyRecordSurvivesSerializerAndDeserializer(T record) {
    String topic = "roundtrip." + record.getSchema().getName();
    @SuppressWarnings("unchecked")
    Class<T> type = (Class<T>) record.getClass();
    try (SpillwayAvroSerializer<T> serializer = new SpillwayAvroSerializer<>();
        SpillwayAvroDeserializer<T> deserializer = new SpillwayAvroDeserializer<>()) {
      serializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false);
      deserializer.configure(
          Map.of(
              SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url(),
              SpillwayAvroSerdeConfig.SPECIFIC_AVRO_VALUE_TYPE, type.getName()),
          false);

      byte[] bytes = serializer.serialize(topic, record);
      T back = deserializer.deserialize(topic, bytes);

      assertThat(back).isEqualTo(record);
      assertThat(back).isNotSameAs(record);
      try (SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build()) {
        assertThat(client.subjects()).contains(topic + "-value");
        assertThat(ConfluentWireFormat.schemaId(bytes))
            .isEqualTo(client.lookup(topic + "-value", record.getSchema()).id());
      }
    }
  }

  @Test
  void keysGoUnderTheKeySubjectAndNullsStayNull() {
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build();
        SpillwayAvroSerializer<SessionState> serializer = new SpillwayAvroSerializer<>(client);
        SpillwayAvroDeserializer<SessionState> deserializer =
            new SpillwayAvroDeserializer<>(client, SessionState.class)) {
      serializer.configure(Map.of(), true);

      byte[] bytes = serializer.serialize("keyed", SampleRecords.hotSession());

      assertThat(client.subjects()).contains("keyed-key").doesNotContain("keyed-value");
      assertThat(deserializer.deserialize("keyed", bytes)).isEqualTo(SampleRecords.hotSession());
      assertThat(serializer.serialize("keyed", null)).isNull();
      assertThat(deserializer.deserialize("keyed", null)).isNull();
    }
  }

  @Test
  void withoutAutoRegisterTheSchemaMustAlreadyBeRegistered() {
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build();
        SpillwayAvroSerializer<InferenceEvent> serializer = new SpillwayAvroSerializer<>(client)) {
      serializer.configure(Map.of(SpillwayAvroSerdeConfig.AUTO_REGISTER_SCHEMAS, "false"), false);

      assertThatThrownBy(() -> serializer.serialize("unregistered", SampleRecords.deltaEvent()))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("cannot find (auto.register.schemas=false) io.spillway.schemas.InferenceEvent")
          .hasMessageContaining("'unregistered-value'")
          .hasMessageContaining("40401");

      int id = client.register("unregistered-value", InferenceEvent.getClassSchema());
      assertThat(ConfluentWireFormat.schemaId(serializer.serialize("unregistered", SampleRecords.deltaEvent())))
          .isEqualTo(id);
    }
  }

  @Test
  void aRecordWithANullInARequiredFieldIsASerializationException() {
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build();
        SpillwayAvroSerializer<InferenceRequest> serializer = new SpillwayAvroSerializer<>(client)) {
      InferenceRequest broken = SampleRecords.chatRequest();
      broken.setModel(null);

      assertThatThrownBy(() -> serializer.serialize("broken", broken))
          .isInstanceOf(SerializationException.class)
          .hasMessageContaining("cannot encode io.spillway.schemas.InferenceRequest for topic 'broken'");
    }
  }

  @Test
  void configurationMistakesAreNamed() {
    try (SpillwayAvroDeserializer<InferenceRequest> deserializer = new SpillwayAvroDeserializer<>()) {
      assertThatThrownBy(() -> deserializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url()), false))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("specific.avro.value.type is required");
      assertThatThrownBy(
              () -> deserializer.configure(
                  Map.of(
                      SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, registry.url(),
                      SpillwayAvroSerdeConfig.SPECIFIC_AVRO_VALUE_TYPE, String.class),
                  false))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("not a generated Avro SpecificRecord class");
    }
    try (SpillwayAvroSerializer<InferenceRequest> serializer = new SpillwayAvroSerializer<>()) {
      assertThatThrownBy(() -> serializer.configure(Map.of(), false))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("schema.registry.url is required");
      assertThatThrownBy(
              () -> serializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, "http://a:8081,http://b:8081"), false))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("takes one URL");
    }
  }
}
