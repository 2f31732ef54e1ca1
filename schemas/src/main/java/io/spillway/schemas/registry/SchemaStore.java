package io.spillway.schemas.registry;

import java.util.List;

/**
 * Where an {@link EmbeddedSchemaRegistry} keeps what it registered: an append-only log of
 * {@link StoredSchema} entries that the registry replays when it starts. Kept this narrow so that a
 * store on a compacted Kafka topic (like Confluent's {@code _schemas}) fits it: append produces a
 * record and waits for it to be acknowledged, loadAll reads the topic from the beginning.
 */
public interface SchemaStore {

  /**
   * Durably records a newly registered version. The registry calls it before answering, one call
   * at a time, in registration order; if it throws, the registration fails and is not kept.
   */
  void append(StoredSchema entry);

  /** Every entry appended so far, in append order. */
  List<StoredSchema> loadAll();
}
