package io.spillway.gateway.api;

import io.spillway.gateway.GatewayMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Every failure as OpenAI's error body. Logged with status and code only: messages can quote the
 * request (a role, a model name), and bodies never reach the logs.
 */
@RestControllerAdvice
final class ApiErrorHandler {

  private static final Logger log = LoggerFactory.getLogger(ApiErrorHandler.class);

  private final GatewayMetrics metrics;

  ApiErrorHandler(GatewayMetrics metrics) {
    this.metrics = metrics;
  }

  @ExceptionHandler(ApiException.class)
  ResponseEntity<ErrorBody> apiException(ApiException e) {
    return answer(e);
  }

  @ExceptionHandler(HttpMessageNotReadableException.class)
  ResponseEntity<ErrorBody> unreadableBody(HttpMessageNotReadableException e) {
    return answer(
        new ApiException(
            HttpStatus.BAD_REQUEST,
            "invalid_request_error",
            null,
            null,
            "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload."));
  }

  /** Spring MVC's own refusals (unknown path, wrong method or media type: {@link ErrorResponse}s), or a bug. */
  @ExceptionHandler(Exception.class)
  ResponseEntity<ErrorBody> other(Exception e) {
    if (e instanceof ErrorResponse error) {
      HttpStatus status = HttpStatus.valueOf(error.getStatusCode().value());
      String message = error.getBody().getDetail() != null ? error.getBody().getDetail() : status.getReasonPhrase();
      return answer(new ApiException(status, "invalid_request_error", null, null, message));
    }
    log.atError().setCause(e).log("request failed unexpectedly");
    return answer(ApiException.internal("The server had an error while processing your request."));
  }

  private ResponseEntity<ErrorBody> answer(ApiException e) {
    metrics.error(e.status().value(), e.code());
    log.atDebug().addKeyValue("status", e.status().value()).addKeyValue("code", e.code()).log("request refused");
    return ResponseEntity.status(e.status()).body(e.body());
  }
}
