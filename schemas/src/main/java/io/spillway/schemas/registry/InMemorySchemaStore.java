package io.spillway.schemas.registry;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link SchemaStore} in a list: registrations live as long as this object, so a registry
 * restarted on the same instance keeps its ids, and one started on a new instance starts empty.
 */
public final class InMemorySchemaStore implements SchemaStore {

  private final List<StoredSchema> entries = new ArrayList<>();

  @Override
  public synchronized void append(StoredSchema entry) {
    entries.add(entry);
  }

  @Override
  public synchronized List<StoredSchema> loadAll() {
    return List.copyOf(entries);
  }
}
