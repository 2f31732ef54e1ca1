package io.spillway.schemas.serde;

import io.spillway.schemas.AvroClassTrust;
import io.spillway.schemas.AvroCompatibility;
import io.spillway.schemas.registry.SchemaNotFoundException;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Kafka deserializer of Confluent-framed Avro into one generated class. Each record is decoded
 * with the schema it was written with (fetched by the id in its header, then cached) and resolved
 * to the class's own schema, so producers and consumers may run different versions of a schema
 * as long as they stay compatible.
 *
 * <p>A record that cannot be read — not framed, unknown schema id, a writer schema this class
 * cannot read, truncated or malformed data — throws {@link SerializationException} with the reason;
 * those records belong in the dead-letter topic. An unreachable registry throws
 * {@link SchemaRegistryUnavailableException} instead: the record is fine, retry it. (Kafka's
 * consumer wraps either in a {@code RecordDeserializationException}; tell them apart by its cause.)
 * Keys are in {@link SpillwayAvroSerdeConfig}.
 */
public final class SpillwayAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {

  static {
    // Avro 1.12.2 refuses to load our generated classes until they are trusted.
    AvroClassTrust.install();
  }

  private SchemaRegistryClient registry;
  private boolean ownsRegistry;
  private Class<T> type;
  private Schema readerSchema;
  private SpecificData model;
  private final Map<Integer, DatumReader<T>> readersByWriterId = new ConcurrentHashMap<>();

  /** A deserializer configured entirely by {@link #configure} ({@code specific.avro.value.type} or {@code .key.type}). */
  public SpillwayAvroDeserializer() {}

  /** A deserializer into {@code type} that builds its registry client from {@link #configure}. */
  public SpillwayAvroDeserializer(Class<T> type) {
    setType(type);
  }

  /** A deserializer into {@code type} on a shared client; usable without {@link #configure}. */
  public SpillwayAvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
    this.registry = registry;
    setType(type);
  }

  @Override
  @SuppressWarnings("unchecked") // checked just above: the configured class is a SpecificRecord
  public void configure(Map<String, ?> configs, boolean isKey) {
    SpillwayAvroSerdeConfig config = new SpillwayAvroSerdeConfig(configs);
    if (type == null) {
      Class<?> configured = config.specificType(isKey);
      String key =
          isKey ? SpillwayAvroSerdeConfig.SPECIFIC_AVRO_KEY_TYPE : SpillwayAvroSerdeConfig.SPECIFIC_AVRO_VALUE_TYPE;
      if (configured == null) {
        throw new ConfigException(key + " is required: the generated class to read records into");
      }
      if (!SpecificRecord.class.isAssignableFrom(configured)) {
        throw new ConfigException(key, configured.getName(), "is not a generated Avro SpecificRecord class");
      }
      setType((Class<T>) configured);
    }
    if (registry == null) {
      registry = config.newRegistryClient();
      ownsRegistry = true;
    }
  }

  private void setType(Class<T> type) {
    this.type = type;
    this.model = SpecificData.getForClass(type);
    this.readerSchema = model.getSchema(type);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null; // tombstone
    }
    if (registry == null || type == null) {
      throw new IllegalStateException(
          "SpillwayAvroDeserializer is not configured: give it a class and a registry client, or configure it");
    }
    int id;
    try {
      id = ConfluentWireFormat.schemaId(data);
    } catch (IllegalArgumentException e) {
      throw unreadable(topic, e.getMessage(), e);
    }
    DatumReader<T> reader = readerFor(topic, id);
    BinaryDecoder decoder =
        DecoderFactory.get()
            .binaryDecoder(data, ConfluentWireFormat.HEADER_LENGTH, data.length - ConfluentWireFormat.HEADER_LENGTH, null);
    T record;
    try {
      record = reader.read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw unreadable(topic, "Avro data of schema id " + id + " is truncated or malformed: " + e, e);
    }
    boolean trailing;
    try {
      trailing = !decoder.isEnd();
    } catch (IOException e) {
      throw unreadable(topic, "cannot check the end of the Avro data: " + e, e);
    }
    if (trailing) {
      // Leftover bytes mean the data was not written with the schema its header names.
      throw unreadable(topic, "bytes left over after the record: the data does not match schema id " + id, null);
    }
    return record;
  }

  private DatumReader<T> readerFor(String topic, int id) {
    DatumReader<T> cached = readersByWriterId.get(id);
    if (cached != null) {
      return cached;
    }
    Schema writerSchema;
    try {
      writerSchema = registry.schemaById(id);
    } catch (SchemaNotFoundException e) {
      throw unreadable(topic, "unknown schema id " + id + " (" + e.getMessage() + ")", e);
    } catch (SchemaRegistryUnavailableException e) {
      throw e;
    } catch (SchemaRegistryException e) {
      throw unreadable(topic, "cannot use schema id " + id + ": " + e.getMessage(), e);
    }
    List<String> problems = AvroCompatibility.problems(readerSchema, writerSchema);
    if (!problems.isEmpty()) {
      throw unreadable(
          topic,
          "data written with schema id " + id + " (" + writerSchema.getFullName() + ") cannot be read as "
              + readerSchema.getFullName() + ": " + problems,
          null);
    }
    DatumReader<T> reader = new SpecificDatumReader<>(writerSchema, readerSchema, model);
    readersByWriterId.put(id, reader);
    return reader;
  }

  private SerializationException unreadable(String topic, String reason, Throwable cause) {
    return new SerializationException(
        "cannot deserialize a record of topic '" + topic + "' as " + type.getName() + ": " + reason, cause);
  }

  /** Closes the registry client if this deserializer built it. */
  @Override
  public void close() {
    if (ownsRegistry) {
      registry.close();
    }
  }
}
