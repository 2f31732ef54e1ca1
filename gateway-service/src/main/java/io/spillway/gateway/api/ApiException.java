package io.spillway.gateway.api;

import java.io.Serial;
import org.springframework.http.HttpStatus;

/**
 * A failure the client sees as an OpenAI error body, {@code {"error": {message, type, param, code}}}
 * with {@link #status()}. Messages go to the client, never to the logs: they may quote the request.
 */
public final class ApiException extends RuntimeException {

  @Serial private static final long serialVersionUID = 1L;

  private final HttpStatus status;
  private final String type;
  private final String param;
  private final String code;

  public ApiException(HttpStatus status, String type, String code, String param, String message) {
    super(message, null, false, false); // control flow, not a bug: no stack trace
    this.status = status;
    this.type = type;
    this.code = code;
    this.param = param;
  }

  /** 400 for a parameter the client got wrong or left out. */
  public static ApiException invalidValue(String param, String message) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid_request_error", "invalid_value", param, message);
  }

  /** 400: the prompt does not fit the model's context (or the gateway's prompt limit). */
  public static ApiException contextLengthExceeded(String param, String message) {
    return new ApiException(HttpStatus.BAD_REQUEST, "invalid_request_error", "context_length_exceeded", param, message);
  }

  public static ApiException invalidApiKey(String message) {
    return new ApiException(HttpStatus.UNAUTHORIZED, "invalid_request_error", "invalid_api_key", null, message);
  }

  public static ApiException modelNotFound(String model) {
    return new ApiException(
        HttpStatus.NOT_FOUND,
        "invalid_request_error",
        "model_not_found",
        "model",
        "The model '" + model + "' does not exist or you do not have access to it.");
  }

  /** 404, as for a session that does not exist: another key's session is none of the caller's business. */
  public static ApiException sessionNotFound() {
    return new ApiException(
        HttpStatus.NOT_FOUND, "invalid_request_error", "session_not_found", null, "No such session.");
  }

  public static ApiException jobNotFound() {
    return new ApiException(HttpStatus.NOT_FOUND, "invalid_request_error", "job_not_found", null, "No such job.");
  }

  public static ApiException kafkaUnavailable(String message) {
    return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "server_error", "service_unavailable", null, message);
  }

  public static ApiException timeout(String message) {
    return new ApiException(HttpStatus.GATEWAY_TIMEOUT, "server_error", "timeout", null, message);
  }

  public static ApiException internal(String message) {
    return new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, "server_error", "internal_error", null, message);
  }

  public HttpStatus status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String param() {
    return param;
  }

  public String code() {
    return code;
  }

  /** The JSON body OpenAI clients parse. */
  public ErrorBody body() {
    return new ErrorBody(new ErrorBody.Error(getMessage(), type, param, code));
  }
}
