package io.spillway.gateway;

import static org.awaitility.Awaitility.await;

import io.spillway.gateway.kafka.ReplyListener;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.BeforeEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Base of the gateway's end-to-end tests: the whole application on a random port, against the
 * shared in-process broker and registry, with a {@link FakeWorker} in place of the workers. All
 * subclasses share one application context.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "spillway.gateway.api-keys=" + GatewayTest.ALICE + ":alice," + GatewayTest.BOB + ":bob",
      "spillway.gateway.models=tiny-llama,other-model",
      "spillway.gateway.max-prompt-chars=2000",
      // Short, so the timeout test is quick; the fake worker answers in milliseconds.
      "spillway.gateway.first-token-timeout=4s",
      "spillway.gateway.event-timeout=4s",
      // The job flow has tests of its own (JobTopologyTest, and end to end in the embedded module).
      "spillway.jobs.enabled=false",
    })
abstract class GatewayTest {

  static final String ALICE = "sk-alice-0123456789";
  static final String BOB = "sk-bob-0123456789";
  static final JsonMapper JSON = JsonMapper.builder().build();

  static final FakeWorker worker;

  static {
    KafkaTestCluster.start();
    worker = new FakeWorker(KafkaTestCluster.bootstrapServers(), KafkaTestCluster.registryUrl());
  }

  @DynamicPropertySource
  static void kafka(DynamicPropertyRegistry registry) {
    registry.add("spillway.kafka.bootstrap-servers", KafkaTestCluster::bootstrapServers);
    registry.add("spillway.schema-registry.url", KafkaTestCluster::registryUrl);
  }

  @LocalServerPort int port;
  @Autowired ReplyListener replies;

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @BeforeEach
  void gatewayReady() {
    await().atMost(Duration.ofSeconds(30)).until(replies::ready);
    worker.answer(request -> Script.text("Hello", ", ", "world", "!"));
  }

  String baseUrl() {
    return "http://localhost:" + port + "/v1";
  }

  /** POSTs {@code json} to {@code path} (under /v1) with {@code apiKey} (null: none) and extra header pairs. */
  HttpResponse<String> post(String path, String apiKey, String json, String... headers) throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(baseUrl() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json));
    if (apiKey != null) {
      request.header("Authorization", "Bearer " + apiKey);
    }
    if (headers.length > 0) {
      request.headers(headers);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  static JsonNode json(String body) {
    return JSON.readTree(body);
  }

  static String chatBody(String extraFields) {
    return "{\"model\": \"tiny-llama\", \"messages\": [{\"role\": \"user\", \"content\": \"Say hello\"}]"
        + (extraFields.isEmpty() ? "" : ", " + extraFields)
        + "}";
  }
}
