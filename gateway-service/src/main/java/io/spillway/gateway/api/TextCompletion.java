package io.spillway.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import tools.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy;
import tools.jackson.databind.annotation.JsonNaming;

/**
 * A text completion, {@code object: "text_completion"}: the whole answer, or one SSE chunk of a
 * streamed one (then usage is absent, except in the last chunk for {@code include_usage}).
 */
@JsonNaming(SnakeCaseStrategy.class)
public record TextCompletion(
    String id,
    String object,
    long created,
    String model,
    List<Choice> choices,
    @JsonInclude(JsonInclude.Include.NON_NULL) Usage usage) {

  public TextCompletion(String id, long created, String model, Choice choice, Usage usage) {
    this(id, "text_completion", created, model, List.of(choice), usage);
  }

  public static TextCompletion usage(String id, long created, String model, Usage usage) {
    return new TextCompletion(id, "text_completion", created, model, List.of(), usage);
  }

  /** {@code logprobs} is always null: they are not computed. */
  @JsonNaming(SnakeCaseStrategy.class)
  public record Choice(String text, int index, Object logprobs, String finishReason) {}
}
