package io.spillway.gateway.api;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** Body of {@code POST /v1/completions}; parameters it does not list are ignored. */
@JsonNaming(SnakeCaseStrategy.class)
public record CompletionRequest(
    String model,
    JsonNode prompt,
    Boolean stream,
    StreamOptions streamOptions,
    Double temperature,
    Double topP,
    Integer maxTokens,
    Integer n,
    JsonNode stop,
    Long seed,
    String user,
    Integer topK,
    Double minP,
    Double repetitionPenalty,
    Integer logprobs,
    Boolean echo,
    Integer bestOf,
    String suffix)
    implements SamplingFields {

  /** Without the prompt: Spring logs request bodies at DEBUG, and prompts must never reach a log. */
  @Override
  public String toString() {
    return "CompletionRequest[model=" + model + ", stream=" + stream + "]";
  }

  @Override
  public Integer requestedMaxTokens() {
    return maxTokens;
  }

  @Override
  public String maxTokensParam() {
    return "max_tokens";
  }
}
