package io.spillway.gateway.api;

import io.spillway.schemas.ErrorInfo;
import org.springframework.http.HttpStatus;

/** The HTTP answer to a worker's ERROR event, by its code (docs/KAFKA.md lists them). */
public final class WorkerErrors {

  private WorkerErrors() {}

  /** {@code promptParam} names the request's input ({@code messages} or {@code prompt}) for prompt errors. */
  public static ApiException toApiException(ErrorInfo error, String promptParam) {
    String code = error.getCode();
    return switch (code) {
      case "context_length_exceeded" -> ApiException.contextLengthExceeded(promptParam, error.getMessage());
      case "invalid_request" ->
          new ApiException(HttpStatus.BAD_REQUEST, "invalid_request_error", code, null, error.getMessage());
      case "model_not_found" ->
          new ApiException(HttpStatus.NOT_FOUND, "invalid_request_error", code, "model", error.getMessage());
      default -> new ApiException(HttpStatus.INTERNAL_SERVER_ERROR, "server_error", code, null, error.getMessage());
    };
  }
}
