package io.spillway.gateway.api;

import java.util.List;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** Body of {@code POST /v1/chat/completions}; parameters it does not list are ignored, as OpenAI-compatible servers do. */
@JsonNaming(SnakeCaseStrategy.class)
public record ChatCompletionRequest(
    String model,
    List<Message> messages,
    Boolean stream,
    StreamOptions streamOptions,
    Double temperature,
    Double topP,
    Integer maxTokens,
    Integer maxCompletionTokens,
    Integer n,
    JsonNode stop,
    Long seed,
    String user,
    Integer topK,
    Double minP,
    Double repetitionPenalty,
    Boolean logprobs,
    JsonNode tools)
    implements SamplingFields {

  /** One message; {@code content} is a string or an array of {@code {"type": "text", "text"}} parts. */
  public record Message(String role, JsonNode content) {

    /** Without the content: Spring logs request bodies at DEBUG, and prompts must never reach a log. */
    @Override
    public String toString() {
      return "Message[role=" + role + "]";
    }
  }

  /** The newer {@code max_completion_tokens} wins over the older {@code max_tokens}. */
  @Override
  public Integer requestedMaxTokens() {
    return maxCompletionTokens != null ? maxCompletionTokens : maxTokens;
  }

  @Override
  public String maxTokensParam() {
    return maxCompletionTokens != null ? "max_completion_tokens" : "max_tokens";
  }
}
