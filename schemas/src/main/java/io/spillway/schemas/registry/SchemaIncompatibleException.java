package io.spillway.schemas.registry;

import java.io.Serial;

/** The registry refused a schema (HTTP 409) because it breaks the subject's compatibility rule. */
public final class SchemaIncompatibleException extends SchemaRegistryException {

  @Serial private static final long serialVersionUID = 1L;

  /** See {@link SchemaRegistryException#SchemaRegistryException(String, int, int)}. */
  public SchemaIncompatibleException(String message, int httpStatus, int errorCode) {
    super(message, httpStatus, errorCode);
  }
}
