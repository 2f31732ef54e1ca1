package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import io.spillway.schemas.InferenceEvent;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the client puts on the wire and how it reads answers no registry here would give. */
class SchemaRegistryClientHttpTest {

  private record Seen(String method, String path, String contentType, String authorization, String body) {}

  private final List<Seen> seen = new CopyOnWriteArrayList<>();
  private HttpServer server;
  private volatile int status = 200;
  private volatile String answer = "{\"id\":7}";

  @BeforeEach
  void start() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", exchange -> {
      try (exchange) {
        seen.add(new Seen(
            exchange.getRequestMethod(),
            exchange.getRequestURI().getRawPath(),
            exchange.getRequestHeaders().getFirst("Content-Type"),
            exchange.getRequestHeaders().getFirst("Authorization"),
            new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private String url(String prefix) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + prefix;
  }

  @Test
  void registersOnceWithTheRegistryContentTypeUnderThePrefix() {
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url("/apis/ccompat/v7/")).build()) {
      assertThat(client.register("spillway.events-value", InferenceEvent.getClassSchema())).isEqualTo(7);
      assertThat(client.register("spillway.events-value", InferenceEvent.getClassSchema())).isEqualTo(7);
      assertThat(client.schemaById(7)).as("known from registering").isEqualTo(InferenceEvent.getClassSchema());
    }

    assertThat(seen).hasSize(1);
    Seen request = seen.getFirst();
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.path()).isEqualTo("/apis/ccompat/v7/subjects/spillway.events-value/versions");
    assertThat(request.contentType()).isEqualTo("application/vnd.schemaregistry.v1+json");
    assertThat(request.authorization()).isNull();
    assertThat(request.body()).startsWith("{\"schema\":\"{\\\"type\\\":\\\"record\\\"");
  }

  @Test
  void sendsBasicAuth() {
    try (SchemaRegistryClient client =
        SchemaRegistryClient.builder(url("")).basicAuth("svc", "s3cret:x").build()) {
      client.register("a-value", InferenceEvent.getClassSchema());
    }

    assertThat(seen.getFirst().authorization()).isEqualTo("Basic c3ZjOnMzY3JldDp4");
  }

  @Test
  void sendsABearerToken() {
    answer = "[\"a-value\"]";
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url("")).bearerToken("tok-1").build()) {
      assertThat(client.subjects()).containsExactly("a-value");
    }

    assertThat(seen.getFirst().authorization()).isEqualTo("Bearer tok-1");
    assertThat(seen.getFirst().method()).isEqualTo("GET");
  }

  @Test
  void registryErrorsKeepTheirCodeAndMessage() {
    status = 422;
    answer = "{\"error_code\":42201,\"message\":\"Invalid schema\"}";
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url("")).build()) {
      assertThatThrownBy(() -> client.register("a-value", InferenceEvent.getClassSchema()))
          .isExactlyInstanceOf(SchemaRegistryException.class)
          .hasMessageEndingWith("/subjects/a-value/versions: HTTP 422, error_code 42201: Invalid schema")
          .satisfies(e -> assertThat(((SchemaRegistryException) e).errorCode()).isEqualTo(42201));
    }
  }

  @Test
  void aProxysHtmlErrorIsQuotedAndCountsAsUnavailable() {
    status = 502;
    answer = "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>";
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url("")).build()) {
      assertThatThrownBy(() -> client.schemaById(3))
          .isInstanceOf(SchemaRegistryUnavailableException.class)
          .hasMessageContaining("HTTP 502, error_code 502: <html><body> <h1>502 Bad Gateway</h1> </body></html>");
    }
  }

  @Test
  void aNonAvroSchemaIsRefused() {
    answer = "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax = \\\"proto3\\\";\"}";
    try (SchemaRegistryClient client = SchemaRegistryClient.builder(url("")).build()) {
      assertThatThrownBy(() -> client.schemaById(5))
          .isInstanceOf(SchemaRegistryException.class)
          .hasMessageContaining("schema id 5")
          .hasMessageContaining("is a PROTOBUF schema, not Avro");
    }
  }

  @Test
  void refusesAUrlThatIsNotHttp() {
    assertThatThrownBy(() -> SchemaRegistryClient.builder("registry:8081"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http(s)://host");
  }
}
