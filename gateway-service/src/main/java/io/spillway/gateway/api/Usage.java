package io.spillway.gateway.api;

import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** OpenAI's {@code usage} object; cached tokens are the prompt's part served from the session's KV cache. */
@JsonNaming(SnakeCaseStrategy.class)
public record Usage(int promptTokens, int completionTokens, int totalTokens, PromptTokensDetails promptTokensDetails) {

  /** OpenAI's {@code prompt_tokens_details}. */
  @JsonNaming(SnakeCaseStrategy.class)
  public record PromptTokensDetails(int cachedTokens) {
  }

  public static Usage of(int promptTokens, int completionTokens, int cachedTokens) {
    return new Usage(promptTokens, completionTokens, promptTokens + completionTokens, new PromptTokensDetails(cachedTokens));
  }
}
