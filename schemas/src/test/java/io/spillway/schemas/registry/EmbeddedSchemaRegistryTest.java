package io.spillway.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.SessionState;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.junit.jupiter.api.Test;

/** The registry's own endpoints and its store, seen over plain HTTP. */
class EmbeddedSchemaRegistryTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static Schema point(boolean withZ) {
    SchemaBuilder.FieldAssembler<Schema> fields =
        SchemaBuilder.record("Point").namespace("test").fields().requiredInt("x");
    return (withZ ? fields.name("z").type().intType().intDefault(0) : fields).endRecord();
  }

  private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
  }

  private static HttpResponse<String> post(String url, String body) throws IOException, InterruptedException {
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(
          HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }

  @Test
  void servesVersionsAndLatest() throws Exception {
    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(0);
        SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build()) {
      int v1 = client.register("p-value", point(false));
      int v2 = client.register("p-value", point(true));

      for (String base : List.of(registry.url(), registry.ccompatUrl())) {
        assertThat(JSON.readTree(get(base + "/subjects/p-value/versions").body()))
            .isEqualTo(JSON.readTree("[1,2]"));
        JsonNode latest = JSON.readTree(get(base + "/subjects/p-value/versions/latest").body());
        assertThat(latest.get("subject").asText()).isEqualTo("p-value");
        assertThat(latest.get("version").asInt()).isEqualTo(2);
        assertThat(latest.get("id").asInt()).isEqualTo(v2);
        assertThat(new Schema.Parser().parse(latest.get("schema").asText())).isEqualTo(point(true));
        assertThat(JSON.readTree(get(base + "/subjects/p-value/versions/1").body()).get("id").asInt())
            .isEqualTo(v1);
      }
      HttpResponse<String> missing = get(registry.url() + "/subjects/p-value/versions/3");
      assertThat(missing.statusCode()).isEqualTo(404);
      assertThat(JSON.readTree(missing.body()).get("error_code").asInt()).isEqualTo(40402);
      assertThat(missing.headers().firstValue("Content-Type")).hasValue(SchemaRegistryClient.CONTENT_TYPE);
    }
  }

  @Test
  void answersBadRequestsWithRegistryErrors() throws Exception {
    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(0)) {
      HttpResponse<String> invalid = post(registry.url() + "/subjects/x-value/versions", "{\"schema\":\"{\\\"type\\\":\\\"nope\\\"}\"}");
      HttpResponse<String> protobuf =
          post(registry.url() + "/subjects/x-value/versions", "{\"schemaType\":\"PROTOBUF\",\"schema\":\"syntax\"}");
      HttpResponse<String> unknownRoute = get(registry.url() + "/config");
      HttpResponse<String> wrongMethod = get(registry.url() + "/compatibility/subjects/x-value/versions/latest");

      assertThat(invalid.statusCode()).isEqualTo(422);
      assertThat(JSON.readTree(invalid.body()).get("error_code").asInt()).isEqualTo(42201);
      assertThat(JSON.readTree(invalid.body()).get("message").asText()).startsWith("Invalid schema");
      assertThat(protobuf.statusCode()).isEqualTo(422);
      assertThat(unknownRoute.statusCode()).isEqualTo(404);
      assertThat(wrongMethod.statusCode()).isEqualTo(405);
    }
  }

  @Test
  void idsSurviveARestartOnTheSameStore() {
    InMemorySchemaStore store = new InMemorySchemaStore();
    InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    int requestId;
    int sessionId;
    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(loopback, store);
        SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build()) {
      requestId = client.register("spillway.requests-value", InferenceRequest.getClassSchema());
      sessionId = client.register("spillway.sessions-value", SessionState.getClassSchema());
    }
    assertThat(store.loadAll())
        .extracting(StoredSchema::subject, StoredSchema::version, StoredSchema::id)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("spillway.requests-value", 1, requestId),
            org.assertj.core.groups.Tuple.tuple("spillway.sessions-value", 1, sessionId));

    try (EmbeddedSchemaRegistry registry = EmbeddedSchemaRegistry.start(loopback, store);
        SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build()) {
      assertThat(client.schemaById(requestId)).isEqualTo(InferenceRequest.getClassSchema());
      assertThat(client.register("spillway.sessions-value", SessionState.getClassSchema())).isEqualTo(sessionId);
      assertThat(client.register("other-value", point(false))).isGreaterThan(Math.max(requestId, sessionId));
    }
  }

  @Test
  void aRegistrationTheStoreRefusesIsNotKept() {
    SchemaStore failing = new SchemaStore() {
      @Override
      public void append(StoredSchema entry) {
        throw new IllegalStateException("disk full");
      }

      @Override
      public List<StoredSchema> loadAll() {
        return List.of();
      }
    };
    try (EmbeddedSchemaRegistry registry =
            EmbeddedSchemaRegistry.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), failing);
        SchemaRegistryClient client = SchemaRegistryClient.builder(registry.url()).build()) {
      assertThatThrownBy(() -> client.register("x-value", point(false)))
          .isInstanceOf(SchemaRegistryUnavailableException.class)
          .hasMessageContaining("disk full");
      assertThat(client.subjects()).isEmpty();
    }
  }
}
