package io.spillway.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import tools.jackson.databind.JsonNode;

/** Refusals before anything reaches Kafka, each in OpenAI's error shape. */
class ErrorResponsesTest extends GatewayTest {

  private static JsonNode error(HttpResponse<String> response, int status) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    JsonNode error = json(response.body()).path("error");
    assertThat(error.path("message").asString()).isNotBlank();
    assertThat(error.has("type")).isTrue();
    assertThat(error.has("param")).isTrue();
    assertThat(error.has("code")).isTrue();
    return error;
  }

  @Test
  void missingKeyIs401() throws Exception {
    JsonNode error = error(post("/chat/completions", null, chatBody("")), 401);

    assertThat(error.path("code").asString()).isEqualTo("invalid_api_key");
    assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
  }

  @Test
  void wrongKeyIs401EvenWithABadBody() throws Exception {
    assertThat(error(post("/chat/completions", "sk-wrong", chatBody("")), 401).path("code").asString())
        .isEqualTo("invalid_api_key");
    assertThat(error(post("/chat/completions", "sk-wrong", "{not json"), 401).path("code").asString())
        .isEqualTo("invalid_api_key");
  }

  @Test
  void anotherKeysSessionIs404() throws Exception {
    String session = "session-" + UUID.randomUUID();
    assertThat(post("/chat/completions", ALICE, chatBody(""), "X-Session-Id", session).statusCode()).isEqualTo(200);

    JsonNode error = error(post("/chat/completions", BOB, chatBody(""), "X-Session-Id", session), 404);
    assertThat(error.path("code").asString()).isEqualTo("session_not_found");
    // The `user` field names a session too.
    error(post("/chat/completions", BOB, chatBody("\"user\": \"" + session + "\"")), 404);
    // Its owner carries on.
    HttpResponse<String> again = post("/chat/completions", ALICE, chatBody(""), "X-Session-Id", session);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(again.headers().firstValue("X-Session-Id")).contains(session);
    assertThat(worker.received().getLast().getSessionId()).isEqualTo(session);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          "temperature": -0.1                          | temperature
          "temperature": 2.5                           | temperature
          "top_p": 0                                   | top_p
          "top_p": 1.5                                 | top_p
          "max_tokens": 0                              | max_tokens
          "max_completion_tokens": -3                  | max_completion_tokens
          "n": 2                                       | n
          "stop": ["a", "b", "c", "d", "e"]            | stop
          "tools": [{"type": "function"}]              | tools
          """)
  void badParameterIs400(String field, String param) throws Exception {
    JsonNode error = error(post("/chat/completions", ALICE, chatBody(field)), 400);

    assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
    assertThat(error.path("param").asString()).isEqualTo(param);
  }

  @Test
  void badMessagesAre400() throws Exception {
    assertThat(error(post("/chat/completions", ALICE, "{\"model\": \"tiny-llama\", \"messages\": []}"), 400)
            .path("param").asString())
        .isEqualTo("messages");
    assertThat(error(post("/chat/completions", ALICE, "{\"model\": \"tiny-llama\"}"), 400).path("param").asString())
        .isEqualTo("messages");
    String unknownRole = "{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}";
    assertThat(error(post("/chat/completions", ALICE, unknownRole), 400).path("param").asString())
        .isEqualTo("messages[0].role");
  }

  @Test
  void badJsonIs400() throws Exception {
    JsonNode error = error(post("/chat/completions", ALICE, "{\"model\": \"tiny-llama\", "), 400);
    assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");

    error(post("/chat/completions", ALICE, chatBody("\"temperature\": \"hot\"")), 400);
  }

  @Test
  void unknownModelIs404() throws Exception {
    String body = "{\"model\": \"gpt-9\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}";
    JsonNode error = error(post("/chat/completions", ALICE, body), 404);

    assertThat(error.path("code").asString()).isEqualTo("model_not_found");
    assertThat(error.path("param").asString()).isEqualTo("model");
    error(post("/completions", ALICE, "{\"model\": \"gpt-9\", \"prompt\": \"hi\"}"), 404);
  }

  @Test
  void promptOverTheLimitIs400ContextLengthExceeded() throws Exception {
    int before = worker.received().size();
    String body = "{\"model\": \"tiny-llama\", \"prompt\": \"" + "x".repeat(2001) + "\"}";

    JsonNode error = error(post("/completions", ALICE, body), 400);

    assertThat(error.path("code").asString()).isEqualTo("context_length_exceeded");
    assertThat(error.path("param").asString()).isEqualTo("prompt");
    assertThat(worker.received()).hasSize(before);
  }
}
