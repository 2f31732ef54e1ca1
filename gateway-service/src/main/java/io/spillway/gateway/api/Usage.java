package io.spillway.gateway.api;

import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** OpenAI's {@code usage} object. */
@JsonNaming(SnakeCaseStrategy.class)
public record Usage(int promptTokens, int completionTokens, int totalTokens) {

  public static Usage of(int promptTokens, int completionTokens) {
    return new Usage(promptTokens, completionTokens, promptTokens + completionTokens);
  }
}
