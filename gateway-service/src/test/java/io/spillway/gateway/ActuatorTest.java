package io.spillway.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Health and the gateway's Prometheus meters, without an API key. */
class ActuatorTest extends GatewayTest {

  private String get(String path) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://localhost:" + port + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response.body();
  }

  @Test
  void healthIsUpOnceTheReplyPartitionsAreRead() throws Exception {
    var health = json(get("/actuator/health"));

    assertThat(health.path("status").asString()).isEqualTo("UP");
    assertThat(health.path("components").path("replies").path("status").asString()).isEqualTo("UP");
    assertThat(json(get("/actuator/health/readiness")).path("status").asString()).isEqualTo("UP");
  }

  @Test
  void prometheusHasTheGatewaysMeters() throws Exception {
    assertThat(post("/chat/completions", ALICE, chatBody("\"stream\": true")).statusCode()).isEqualTo(200);
    assertThat(post("/chat/completions", "sk-wrong", chatBody("")).statusCode()).isEqualTo(401);

    String metrics = get("/actuator/prometheus");

    assertThat(metrics)
        .contains("spillway_gateway_requests_total{endpoint=\"chat.completions\",stream=\"true\"}")
        .contains("spillway_gateway_errors_total{code=\"invalid_api_key\",status=\"401\"}")
        .contains("spillway_gateway_time_to_first_token_seconds_count{endpoint=\"chat.completions\"}")
        .contains("spillway_gateway_requests_in_flight ");
  }
}
