package io.spillway.schemas.registry;

import java.io.Serial;

/**
 * The registry could not be reached, timed out, or failed on its side (HTTP 5xx). Transient: the
 * record being (de)serialized is not at fault, so it must be retried, not dead-lettered.
 */
public final class SchemaRegistryUnavailableException extends SchemaRegistryException {

  @Serial private static final long serialVersionUID = 1L;

  /** An HTTP 5xx answer. */
  public SchemaRegistryUnavailableException(String message, int httpStatus, int errorCode) {
    super(message, httpStatus, errorCode);
  }

  /** No answer at all. */
  public SchemaRegistryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
