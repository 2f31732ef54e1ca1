package io.spillway.schemas.registry;

import java.io.Serial;

/**
 * A schema registry answered with an error, or could not be asked. Carries the HTTP status and the
 * registry's own {@code error_code} (e.g. 40403 schema not found, 42201 invalid schema) so callers
 * can branch on them; the message names the request and repeats the registry's message.
 */
public class SchemaRegistryException extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  private final int httpStatus;
  private final int errorCode;

  /** An error answer: {@code errorCode} is the registry's {@code error_code}, or the HTTP status when it sent none. */
  public SchemaRegistryException(String message, int httpStatus, int errorCode) {
    super(message);
    this.httpStatus = httpStatus;
    this.errorCode = errorCode;
  }

  /** No answer at all (connection refused, timeout): status and error code are 0. */
  public SchemaRegistryException(String message, Throwable cause) {
    super(message, cause);
    this.httpStatus = 0;
    this.errorCode = 0;
  }

  /** HTTP status of the answer; 0 when there was none. */
  public int httpStatus() {
    return httpStatus;
  }

  /** The registry's {@code error_code}; 0 when there was no answer. */
  public int errorCode() {
    return errorCode;
  }
}
