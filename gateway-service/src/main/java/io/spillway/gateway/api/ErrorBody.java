package io.spillway.gateway.api;

/** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}, nulls included. */
public record ErrorBody(Error error) {

  public record Error(String message, String type, String param, String code) {}
}
