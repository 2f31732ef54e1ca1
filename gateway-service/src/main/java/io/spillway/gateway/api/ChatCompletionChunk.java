package io.spillway.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/**
 * One SSE chunk of a streamed chat completion, {@code object: "chat.completion.chunk"}. The last
 * chunk, sent only for {@code stream_options.include_usage}, has no choices and the usage.
 */
@JsonNaming(SnakeCaseStrategy.class)
public record ChatCompletionChunk(
    String id,
    String object,
    long created,
    String model,
    List<Choice> choices,
    @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

  public ChatCompletionChunk(String id, long created, String model, Choice choice) {
    this(id, "chat.completion.chunk", created, model, List.of(choice), null);
  }

  public static ChatCompletionChunk usage(String id, long created, String model, Usage usage) {
    return new ChatCompletionChunk(id, "chat.completion.chunk", created, model, List.of(), usage);
  }

  @JsonNaming(SnakeCaseStrategy.class)
  public record Choice(int index, Delta delta, Object logprobs, String finishReason) {}

  /** What a chunk adds: the role in the first one, text after, nothing in the last. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Delta(String role, String content) {}
}
