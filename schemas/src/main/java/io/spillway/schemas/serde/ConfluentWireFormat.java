package io.spillway.schemas.serde;

import java.nio.ByteBuffer;

/**
 * The Confluent wire format every Kafka record value of Spillway uses: magic byte 0, the writer's
 * schema id as 4 bytes big-endian, then the Avro binary encoding. Any Confluent-compatible
 * consumer (kcat, ksqlDB, Kafka UI, Connect) can decode it with the registry alone.
 */
public final class ConfluentWireFormat {

  /** First byte of every framed message. */
  public static final byte MAGIC_BYTE = 0;

  /** Bytes before the Avro data: the magic byte and the 4-byte schema id. */
  public static final int HEADER_LENGTH = 5;

  private ConfluentWireFormat() {}

  /** The 5 header bytes for a message written with schema {@code schemaId}. */
  public static byte[] header(int schemaId) {
    return ByteBuffer.allocate(HEADER_LENGTH).put(MAGIC_BYTE).putInt(schemaId).array();
  }

  /**
   * Reads the schema id from a framed message; the Avro data starts at {@link #HEADER_LENGTH}.
   *
   * @throws IllegalArgumentException saying why {@code message} is not Confluent-framed
   */
  public static int schemaId(byte[] message) {
    if (message.length > 0 && message[0] != MAGIC_BYTE) {
      byte first = message[0];
      // JSON producers are the usual culprit; say so, since the bytes alone look like noise.
      String hint = first == '{' || first == '[' || first == '"' ? " (JSON?)" : "";
      throw new IllegalArgumentException(
          String.format("unknown magic byte 0x%02x: not Confluent-framed Avro%s", first & 0xff, hint));
    }
    if (message.length < HEADER_LENGTH) {
      throw new IllegalArgumentException(
          "too short for Confluent-framed Avro: " + message.length + " bytes, but the magic byte and"
              + " the 4-byte schema id alone take " + HEADER_LENGTH);
    }
    return ByteBuffer.wrap(message, 1, 4).getInt();
  }
}
