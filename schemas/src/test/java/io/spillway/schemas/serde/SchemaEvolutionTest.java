package io.spillway.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.SampleRecords;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.registry.SchemaIncompatibleException;
import io.spillway.schemas.registry.SchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Producers and consumers on different, compatible versions of a schema understand each other. */
class SchemaEvolutionTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Path RELEASED = Path.of("src/test/resources/released/v1");

  private EmbeddedSchemaRegistry registry;
  private SchemaRegistryClient client;

  @BeforeEach
  void start() {
    registry = EmbeddedSchemaRegistry.start(0);
    client = SchemaRegistryClient.builder(registry.url()).build();
  }

  @AfterEach
  void stop() {
    client.close();
    registry.close();
  }

  @Test
  void dataOfTheReleasedSchemaReadsWithACurrentSchemaThatAddedAnOptionalField() throws IOException {
    Schema released = new Schema.Parser().parse(Files.readString(RELEASED.resolve("InferenceEvent.avsc")));
    Schema next =
        withFields(released, "{\"name\":\"modelVersion\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"d\"}");
    GenericRecord written = new GenericData.Record(released);
    written.put("requestId", "r");
    written.put("sessionId", "s");
    written.put("attempt", 0);
    written.put("seq", 0);
    written.put("type", new GenericData.EnumSymbol(released.getField("type").schema(), "STARTED"));
    written.put("tokenIds", List.of());
    written.put("workerId", "w");
    written.put("timestampMs", 1L);
    int releasedId = client.register("evolving-value", released);

    byte[] bytes = frame(releasedId, released, written);
    Schema writer = client.schemaById(ConfluentWireFormat.schemaId(bytes));
    GenericRecord read =
        new GenericDatumReader<GenericRecord>(writer, next)
            .read(null, DecoderFactory.get().binaryDecoder(bytes, 5, bytes.length - 5, null));

    assertThat(read.get("requestId")).hasToString("r");
    assertThat(read.get("modelVersion")).isNull();
    assertThat(client.isCompatible("evolving-value", next)).isTrue();
    assertThat(client.register("evolving-value", next)).isNotEqualTo(releasedId);
  }

  @Test
  void olderProducersDataGetsTheDefaultsOfFieldsAddedSince() throws IOException {
    // InferenceRequest as it might have been before jobId and metadata were added.
    Schema older = withoutFields(InferenceRequest.getClassSchema(), "jobId", "metadata");
    InferenceRequest current = SampleRecords.completionRequest();
    GenericRecord written = new GenericData.Record(older);
    for (Schema.Field field : older.getFields()) {
      written.put(field.name(), GenericData.get().deepCopy(field.schema(), current.get(field.name())));
    }
    int olderId = client.register("spillway.requests-value", older);
    byte[] bytes = frame(olderId, older, written);

    try (SpillwayAvroDeserializer<InferenceRequest> deserializer =
        new SpillwayAvroDeserializer<>(client, InferenceRequest.class)) {
      InferenceRequest read = deserializer.deserialize("spillway.requests", bytes);

      assertThat(read.getJobId()).isNull();
      assertThat(read.getMetadata()).isEmpty();
      assertThat(read.getPrompt()).isEqualTo(current.getPrompt());
      assertThat(read.getSampling()).isEqualTo(current.getSampling());
    }
  }

  @Test
  void newerProducersExtraFieldIsSkippedByACurrentConsumer() throws IOException {
    Schema newer =
        withFields(
            InferenceEvent.getClassSchema(),
            "{\"name\":\"latencyMs\",\"type\":\"long\",\"default\":0,\"doc\":\"d\"}");
    InferenceEvent current = SampleRecords.finishedEvent();
    GenericRecord written = new GenericData.Record(newer);
    for (Schema.Field field : InferenceEvent.getClassSchema().getFields()) {
      written.put(field.name(), GenericData.get().deepCopy(newer.getField(field.name()).schema(), current.get(field.name())));
    }
    written.put("latencyMs", 1234L);
    int newerId = client.register("spillway.events-value", newer);

    try (SpillwayAvroDeserializer<InferenceEvent> deserializer =
        new SpillwayAvroDeserializer<>(client, InferenceEvent.class)) {
      assertThat(deserializer.deserialize("spillway.events", frame(newerId, newer, written))).isEqualTo(current);
    }
  }

  @Test
  void theRegistryRefusesAVersionThatCannotReadTheLatest() throws IOException {
    Schema released = new Schema.Parser().parse(Files.readString(RELEASED.resolve("InferenceEvent.avsc")));
    client.register("strict-value", released);
    Schema breaking = withFields(released, "{\"name\":\"shard\",\"type\":\"int\",\"doc\":\"d\"}");

    assertThat(client.isCompatible("strict-value", breaking)).isFalse();
    assertThatThrownBy(() -> client.register("strict-value", breaking))
        .isInstanceOf(SchemaIncompatibleException.class)
        .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE");
  }

  private static byte[] frame(int id, Schema schema, GenericRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ConfluentWireFormat.header(id));
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static Schema withFields(Schema schema, String... fieldJson) throws IOException {
    ObjectNode json = (ObjectNode) JSON.readTree(schema.toString());
    for (String field : fieldJson) {
      ((ArrayNode) json.get("fields")).add(JSON.readTree(field));
    }
    return new Schema.Parser().parse(json.toString());
  }

  private static Schema withoutFields(Schema schema, String... names) throws IOException {
    ObjectNode json = (ObjectNode) JSON.readTree(schema.toString());
    ArrayNode fields = (ArrayNode) json.get("fields");
    for (int i = fields.size() - 1; i >= 0; i--) {
      if (List.of(names).contains(fields.get(i).get("name").asText())) {
        fields.remove(i);
      }
    }
    assertThat(fields.size()).isEqualTo(schema.getFields().size() - names.length);
    return new Schema.Parser().parse(json.toString());
  }
}
