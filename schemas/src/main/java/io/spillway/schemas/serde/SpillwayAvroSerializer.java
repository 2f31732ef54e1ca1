package io.spillway.schemas.serde;

import io.spillway.schemas.AvroClassTrust;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.registry.SchemaRegistryException;
import io.spillway.schemas.registry.SchemaRegistryUnavailableException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serializer of generated Avro records into the Confluent wire format. The record's schema
 * goes under the subject {@code <topic>-value} (or {@code -key}); with {@code auto.register.schemas}
 * (default) it is registered on first use, otherwise it must already be registered.
 *
 * <p>Failures that are the record's or the schema's (refused as incompatible, not registered,
 * unencodable) throw {@link SerializationException}; an unreachable registry throws
 * {@link SchemaRegistryUnavailableException}, since retrying later can succeed. Keys are in
 * {@link SpillwayAvroSerdeConfig}.
 */
public final class SpillwayAvroSerializer<T extends SpecificRecord> implements Serializer<T> {

  static {
    // Avro 1.12.2 refuses to load our generated classes until they are trusted.
    AvroClassTrust.install();
  }

  private SchemaRegistryClient registry;
  private boolean ownsRegistry;
  private boolean autoRegister = true;
  private boolean isKey;
  private final Map<Schema, DatumWriter<T>> writers = new ConcurrentHashMap<>();

  /** A serializer that builds its registry client from the config passed to {@link #configure}. */
  public SpillwayAvroSerializer() {}

  /**
   * A serializer on a shared client (its caches and connections are shared too); usable without
   * {@link #configure}, which then only sets {@code auto.register.schemas} and key/value.
   */
  public SpillwayAvroSerializer(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    SpillwayAvroSerdeConfig config = new SpillwayAvroSerdeConfig(configs);
    this.isKey = isKey;
    this.autoRegister = config.autoRegister();
    if (registry == null) {
      registry = config.newRegistryClient();
      ownsRegistry = true;
    }
  }

  @Override
  public byte[] serialize(String topic, T record) {
    if (record == null) {
      return null; // a tombstone stays a tombstone
    }
    if (registry == null) {
      throw new IllegalStateException(
          "SpillwayAvroSerializer is not configured: pass a SchemaRegistryClient or set "
              + SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL);
    }
    Schema schema = record.getSchema();
    String subject = TopicNameStrategy.subject(topic, isKey);
    int id = schemaId(subject, schema);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(ConfluentWireFormat.header(id));
    try {
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      writers.computeIfAbsent(schema, SpecificDatumWriter::new).write(record, encoder);
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      // e.g. a null left in a field that is not nullable
      throw new SerializationException(
          "cannot encode " + schema.getFullName() + " for topic '" + topic + "': " + e, e);
    }
    return out.toByteArray();
  }

  private int schemaId(String subject, Schema schema) {
    try {
      return autoRegister ? registry.register(subject, schema) : registry.lookup(subject, schema).id();
    } catch (SchemaRegistryUnavailableException e) {
      throw e;
    } catch (SchemaRegistryException e) {
      throw new SerializationException(
          (autoRegister ? "cannot register " : "cannot find (auto.register.schemas=false) ")
              + schema.getFullName() + " under subject '" + subject + "': " + e.getMessage(),
          e);
    }
  }

  /** Closes the registry client if this serializer built it. */
  @Override
  public void close() {
    if (ownsRegistry) {
      registry.close();
    }
  }
}
