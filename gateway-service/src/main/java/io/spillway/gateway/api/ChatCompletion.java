package io.spillway.gateway.api;

import java.util.List;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/** Answer of a non-streamed chat completion, {@code object: "chat.completion"}. */
@JsonNaming(SnakeCaseStrategy.class)
public record ChatCompletion(
    String id, String object, long created, String model, List<Choice> choices, Usage usage) {

  public static ChatCompletion of(String id, long created, String model, String text, String finishReason, Usage usage) {
    return new ChatCompletion(
        id,
        "chat.completion",
        created,
        model,
        List.of(new Choice(0, new Message("assistant", text, null), null, finishReason)),
        usage);
  }

  /** {@code logprobs} is always null: they are not computed. */
  @JsonNaming(SnakeCaseStrategy.class)
  public record Choice(int index, Message message, Object logprobs, String finishReason) {}

  public record Message(String role, String content, String refusal) {}
}
