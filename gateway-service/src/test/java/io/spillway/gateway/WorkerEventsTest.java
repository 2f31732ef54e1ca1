package io.spillway.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.spillway.gateway.kafka.RequestPublisher;
import io.spillway.schemas.InferenceRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** What the gateway makes of the worker's events: duplicates, errors, silence; and of a client that leaves. */
class WorkerEventsTest extends GatewayTest {

  private static final Predicate<InferenceRequest> CANCEL =
      r -> "true".equals(r.getMetadata().get(RequestPublisher.CANCEL));

  @Test
  void duplicateAndReplayedEventsAreDropped() throws Exception {
    worker.answer(
        request ->
            new Script()
                .started()
                .again()
                .delta("A")
                .again()
                .delta("B")
                // the worker crashed; the request is delivered again and generated again from seq 0
                .attempt(1)
                .started()
                .delta("A")
                .delta("B")
                .delta("C")
                .finished("stop", 3, 3)
                .again());

    HttpResponse<String> response = post("/chat/completions", ALICE, chatBody(""));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(json(response.body()).path("choices").path(0).path("message").path("content").asString()).isEqualTo("ABC");
  }

  @Test
  void contextLengthErrorIs400() throws Exception {
    worker.answer(request -> Script.failing("context_length_exceeded", "This model's maximum context length is 2048 tokens."));

    for (String stream : List.of("false", "true")) {
      HttpResponse<String> response = post("/chat/completions", ALICE, chatBody("\"stream\": " + stream));

      assertThat(response.statusCode()).isEqualTo(400);
      JsonNode error = json(response.body()).path("error");
      assertThat(error.path("code").asString()).isEqualTo("context_length_exceeded");
      assertThat(error.path("type").asString()).isEqualTo("invalid_request_error");
      assertThat(error.path("param").asString()).isEqualTo("messages");
      assertThat(error.path("message").asString()).contains("2048");
    }
  }

  @Test
  void internalErrorIs500() throws Exception {
    worker.answer(request -> Script.failing("internal_error", "CUDA error"));

    HttpResponse<String> response = post("/completions", ALICE, "{\"model\": \"tiny-llama\", \"prompt\": \"hi\"}");

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(json(response.body()).path("error").path("code").asString()).isEqualTo("internal_error");
  }

  @Test
  void errorMidStreamEndsTheStreamWithAnErrorChunk() throws Exception {
    worker.answer(request -> new Script().started().delta("Hel").error("internal_error", "worker lost its GPU"));

    HttpResponse<String> response = post("/chat/completions", ALICE, chatBody("\"stream\": true"));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).doesNotContain("[DONE]");
    String last = response.body().strip().lines().toList().getLast();
    assertThat(json(last.substring("data: ".length())).path("error").path("code").asString()).isEqualTo("internal_error");
  }

  @Test
  void undecodableEventFailsItsRequestAndTheReplyPartitionKeepsFlowing() throws Exception {
    worker.answer(request -> new Script().started().garbage().delta("never seen").finished("stop", 1, 1));

    HttpResponse<String> response = post("/chat/completions", ALICE, chatBody(""));

    assertThat(response.statusCode()).isEqualTo(500);
    assertThat(json(response.body()).path("error").path("code").asString()).isEqualTo("internal_error");
    worker.answer(request -> Script.text("still", " here"));
    for (int i = 0; i < 4; i++) { // round robin: both reply partitions
      assertThat(post("/chat/completions", ALICE, chatBody("")).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void silentWorkerIs504AndTheRequestIsCancelled() throws Exception {
    worker.answer(request -> Script.silence());
    int before = worker.received().size();

    HttpResponse<String> response = post("/chat/completions", ALICE, chatBody(""));

    assertThat(response.statusCode()).isEqualTo(504);
    assertThat(json(response.body()).path("error").path("code").asString()).isEqualTo("timeout");
    String requestId = worker.received().get(before).getRequestId();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> worker.received().stream().anyMatch(r -> CANCEL.test(r) && r.getRequestId().equals(requestId)));
  }

  @Test
  void clientDisconnectMidStreamSendsACancelRecord() throws Exception {
    worker.answer(
        request -> {
          Script script = new Script().started().pauses(Duration.ofMillis(100));
          for (int i = 0; i < 100; i++) {
            script.delta("tok" + i + " ");
          }
          return script.finished("stop", 7, 100);
        });
    int before = worker.received().size();

    // A raw socket, so the test controls exactly when the connection goes away.
    try (Socket socket = new Socket("localhost", port)) {
      byte[] body = chatBody("\"stream\": true").getBytes(StandardCharsets.UTF_8);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + ALICE
                  + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      assertThat(in.readLine()).startsWith("HTTP/1.1 200");
      String line;
      do {
        line = in.readLine();
      } while (line != null && !line.contains("tok1 "));
      assertThat(line).isNotNull();
    }

    InferenceRequest request = worker.received().get(before);
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                assertThat(worker.received())
                    .filteredOn(CANCEL)
                    .anySatisfy(
                        cancel -> {
                          assertThat(cancel.getRequestId()).isEqualTo(request.getRequestId());
                          assertThat(cancel.getSessionId()).isEqualTo(request.getSessionId());
                        }));
  }
}
