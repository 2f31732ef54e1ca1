package io.spillway.schemas.registry;

import java.io.Serial;

/**
 * The registry does not know the subject, version or schema asked for (HTTP 404; error_code 40401
 * subject, 40402 version, 40403 schema). For a deserializer this means the record is unreadable here.
 */
public final class SchemaNotFoundException extends SchemaRegistryException {

  @Serial private static final long serialVersionUID = 1L;

  /** See {@link SchemaRegistryException#SchemaRegistryException(String, int, int)}. */
  public SchemaNotFoundException(String message, int httpStatus, int errorCode) {
    super(message, httpStatus, errorCode);
  }
}
