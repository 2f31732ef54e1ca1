package io.spillway.schemas;

import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;

/**
 * Whether data written with one Avro schema can be read with another, as a list of readable
 * problems. One implementation serves the released-schema tests, the embedded registry's BACKWARD
 * check and the deserializer's writer/reader check, so all three agree on what "compatible" means.
 */
public final class AvroCompatibility {

  private AvroCompatibility() {}

  /**
   * Returns why {@code reader} cannot read data written with {@code writer}, one line per problem
   * ("READER_FIELD_MISSING_DEFAULT_VALUE at /fields/16: priority"); empty when it can.
   */
  public static List<String> problems(Schema reader, Schema writer) {
    return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer)
        .getResult()
        .getIncompatibilities()
        .stream()
        .map(i -> i.getType() + " at " + i.getLocation() + ": " + i.getMessage())
        .toList();
  }
}
