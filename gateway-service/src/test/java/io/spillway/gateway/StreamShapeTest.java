package io.spillway.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** The bytes of a stream, as a plain HTTP client sees them. */
class StreamShapeTest extends GatewayTest {

  /** The JSON of each {@code data:} event but the closing {@code [DONE]}, after checking the framing. */
  private static List<JsonNode> events(HttpResponse<String> response) {
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/event-stream"));
    String body = response.body();
    assertThat(body).endsWith("data: [DONE]\n\n");
    List<String> events = Arrays.asList(body.split("\n\n"));
    assertThat(events).allSatisfy(e -> assertThat(e).startsWith("data: ").doesNotContain("\n"));
    return events.subList(0, events.size() - 1).stream().map(e -> json(e.substring("data: ".length()))).toList();
  }

  @Test
  void chatStream() throws Exception {
    HttpResponse<String> response = post("/chat/completions", ALICE, chatBody("\"stream\": true"));

    List<JsonNode> chunks = events(response);
    assertThat(chunks).allSatisfy(c -> {
      assertThat(c.path("object").asString()).isEqualTo("chat.completion.chunk");
      assertThat(c.path("id").asString()).startsWith("chatcmpl-");
      assertThat(c.path("model").asString()).isEqualTo("tiny-llama");
      assertThat(c.path("created").isIntegralNumber()).isTrue();
      assertThat(c.has("usage")).isFalse();
    });
    JsonNode first = chunks.getFirst().path("choices").path(0);
    assertThat(first.path("index").asInt()).isZero();
    assertThat(first.path("delta").path("role").asString()).isEqualTo("assistant");
    assertThat(first.path("finish_reason").isNull()).isTrue();
    JsonNode last = chunks.getLast().path("choices").path(0);
    assertThat(last.path("finish_reason").asString()).isEqualTo("stop");
    assertThat(last.path("delta").isEmpty()).isTrue();
    String text =
        chunks.stream().map(c -> c.path("choices").path(0).path("delta").path("content").asString("")).reduce("", String::concat);
    assertThat(text).isEqualTo("Hello, world!");
    assertThat(response.headers().firstValue("X-Request-Id")).isPresent();
  }

  @Test
  void chatStreamWithUsage() throws Exception {
    HttpResponse<String> response =
        post("/chat/completions", ALICE, chatBody("\"stream\": true, \"stream_options\": {\"include_usage\": true}"));

    List<JsonNode> chunks = events(response);
    JsonNode usageChunk = chunks.getLast();
    assertThat(usageChunk.path("choices").isEmpty()).isTrue();
    assertThat(usageChunk.path("usage").path("prompt_tokens").asInt()).isEqualTo(7);
    assertThat(usageChunk.path("usage").path("completion_tokens").asInt()).isEqualTo(4);
    assertThat(usageChunk.path("usage").path("total_tokens").asInt()).isEqualTo(11);
    assertThat(chunks.get(chunks.size() - 2).path("choices").path(0).path("finish_reason").asString()).isEqualTo("stop");
  }

  @Test
  void textCompletionStream() throws Exception {
    HttpResponse<String> response =
        post("/completions", ALICE, "{\"model\": \"tiny-llama\", \"prompt\": \"Call me\", \"stream\": true}");

    List<JsonNode> chunks = events(response);
    assertThat(chunks).allSatisfy(c -> assertThat(c.path("object").asString()).isEqualTo("text_completion"));
    String text = chunks.stream().map(c -> c.path("choices").path(0).path("text").asString()).reduce("", String::concat);
    assertThat(text).isEqualTo("Hello, world!");
    assertThat(chunks.getLast().path("choices").path(0).path("finish_reason").asString()).isEqualTo("stop");
  }

  @Test
  void nonStreamedChatShape() throws Exception {
    HttpResponse<String> response = post("/chat/completions", ALICE, chatBody(""));

    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode body = json(response.body());
    assertThat(body.path("object").asString()).isEqualTo("chat.completion");
    JsonNode choice = body.path("choices").path(0);
    assertThat(choice.path("index").asInt()).isZero();
    assertThat(choice.path("message").path("role").asString()).isEqualTo("assistant");
    assertThat(choice.path("message").path("content").asString()).isEqualTo("Hello, world!");
    assertThat(choice.path("finish_reason").asString()).isEqualTo("stop");
    assertThat(body.path("usage").path("total_tokens").asInt()).isEqualTo(11);
  }
}
