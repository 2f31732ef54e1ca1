package io.spillway.schemas.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * Client of a schema registry over the Confluent REST API, limited to the subset that Confluent
 * Schema Registry, Apicurio ({@code /apis/ccompat/v7}), Karapace and Redpanda all serve: register,
 * look up, fetch by id, test compatibility, list subjects. The base URL may carry a path prefix.
 *
 * <p>Registered and looked-up ids and fetched schemas are cached for the life of the client (a
 * schema's id never changes), so steady-state (de)serialization makes no HTTP calls. Thread-safe.
 * Errors surface as {@link SchemaRegistryException} subclasses carrying the registry's
 * {@code error_code} and message.
 */
public final class SchemaRegistryClient implements AutoCloseable {

  /** Content type of the registry API's requests and answers. */
  public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  private static final String ACCEPT =
      CONTENT_TYPE + ", application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String baseUrl;
  private final String authorization;
  private final Duration requestTimeout;
  private final HttpClient http;
  private final Map<String, Map<Schema, Integer>> registeredIds = new ConcurrentHashMap<>();
  private final Map<String, Map<Schema, RegisteredSchema>> lookedUp = new ConcurrentHashMap<>();
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

  private SchemaRegistryClient(Builder builder) {
    this.baseUrl = builder.baseUrl;
    this.authorization = builder.authorization;
    this.requestTimeout = builder.requestTimeout;
    // HTTP/1.1 on purpose: every registry speaks it, and the JDK's h2c upgrade attempt on plain
    // http:// confuses some proxies in front of registries.
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(builder.requestTimeout)
            .build();
  }

  /** Starts a client for the registry at {@code baseUrl}, e.g. {@code http://registry:8081} or {@code https://apicurio/apis/ccompat/v7}. */
  public static Builder builder(String baseUrl) {
    return new Builder(baseUrl);
  }

  /** The base URL requests go to, without a trailing slash. */
  public String baseUrl() {
    return baseUrl;
  }

  /**
   * Registers {@code schema} under {@code subject} and returns its global id; registering a schema
   * the subject already has returns the existing id.
   *
   * @throws SchemaIncompatibleException if the subject's compatibility rule refuses it
   */
  public int register(String subject, Schema schema) {
    Map<Schema, Integer> ids = registeredIds.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
    Integer cached = ids.get(schema);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("POST", subjectPath(subject) + "/versions", schemaBody(schema));
    int id = requiredInt(answer, "id", "register");
    ids.put(schema, id);
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  /**
   * Finds {@code schema} among the versions of {@code subject} without registering it.
   *
   * @throws SchemaNotFoundException if the subject does not exist or does not hold this schema
   */
  public RegisteredSchema lookup(String subject, Schema schema) {
    Map<Schema, RegisteredSchema> found = lookedUp.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
    RegisteredSchema cached = found.get(schema);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("POST", subjectPath(subject), schemaBody(schema));
    RegisteredSchema registered =
        new RegisteredSchema(
            subject,
            requiredInt(answer, "version", "lookup"),
            requiredInt(answer, "id", "lookup"),
            schema);
    found.put(schema, registered);
    schemasById.putIfAbsent(registered.id(), schema);
    return registered;
  }

  /**
   * Returns the schema with global id {@code id}.
   *
   * @throws SchemaNotFoundException if the registry has no such id
   */
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = send("GET", "/schemas/ids/" + id, null);
    String type = answer.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new SchemaRegistryException(
          "schema id " + id + " at " + baseUrl + " is a " + type + " schema, not Avro", 200, 0);
    }
    Schema schema = parse(answer.path("schema").asText(null), "schema id " + id);
    schemasById.put(id, schema);
    return schema;
  }

  /**
   * Asks whether {@code schema} could be registered under {@code subject} now, by the subject's
   * compatibility rule against its latest version. Not cached: the answer changes as versions are added.
   *
   * @throws SchemaNotFoundException if the subject has no versions
   */
  public boolean isCompatible(String subject, Schema schema) {
    JsonNode answer =
        send("POST", "/compatibility" + subjectPath(subject) + "/versions/latest", schemaBody(schema));
    JsonNode verdict = answer.get("is_compatible");
    if (verdict == null || !verdict.isBoolean()) {
      throw new SchemaRegistryException(
          "compatibility answer from " + baseUrl + " lacks is_compatible: " + answer, 200, 0);
    }
    return verdict.booleanValue();
  }

  /** Lists the registry's subjects. */
  public List<String> subjects() {
    JsonNode answer = send("GET", "/subjects", null);
    List<String> subjects = new ArrayList<>();
    answer.forEach(s -> subjects.add(s.asText()));
    return subjects;
  }

  /** Closes the underlying HTTP client. */
  @Override
  public void close() {
    http.close();
  }

  private static String subjectPath(String subject) {
    // Subjects may hold characters that are special in a path (Confluent contexts use ':' and '.').
    return "/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private JsonNode send(String method, String path, String body) {
    URI uri = URI.create(baseUrl + path);
    String request = method + " " + uri;
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(uri).timeout(requestTimeout).header("Accept", ACCEPT);
    if (authorization != null) {
      builder.header("Authorization", authorization);
    }
    if (body == null) {
      builder.GET();
    } else {
      builder.header("Content-Type", CONTENT_TYPE).POST(HttpRequest.BodyPublishers.ofString(body));
    }
    HttpResponse<String> response;
    try {
      response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new SchemaRegistryUnavailableException("schema registry " + request + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryUnavailableException("schema registry " + request + " interrupted", e);
    }
    int status = response.statusCode();
    JsonNode json = parseJson(response.body());
    if (status / 100 == 2) {
      if (json == null) {
        throw new SchemaRegistryException(
            "schema registry " + request + ": HTTP " + status + " with a body that is not JSON: "
                + snippet(response.body()),
            status,
            0);
      }
      return json;
    }
    throw error(request, status, json, response.body());
  }

  private static SchemaRegistryException error(String request, int status, JsonNode json, String body) {
    // Registries answer {"error_code": 40403, "message": "..."}; a proxy in between may not.
    boolean structured = json != null && json.has("error_code");
    int code = structured ? json.path("error_code").asInt(status) : status;
    String reason = structured ? json.path("message").asText("") : snippet(body);
    String message =
        "schema registry " + request + ": HTTP " + status + ", error_code " + code + ": " + reason;
    return switch (status) {
      case 409 -> new SchemaIncompatibleException(message, status, code);
      case 404 -> new SchemaNotFoundException(message, status, code);
      case 408, 429 -> new SchemaRegistryUnavailableException(message, status, code);
      default ->
          status >= 500
              ? new SchemaRegistryUnavailableException(message, status, code)
              : new SchemaRegistryException(message, status, code);
    };
  }

  private static JsonNode parseJson(String body) {
    try {
      return body == null || body.isBlank() ? null : JSON.readTree(body);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String snippet(String body) {
    String oneLine = body == null ? "" : body.strip().replaceAll("\\s+", " ");
    return oneLine.length() <= 200 ? oneLine : oneLine.substring(0, 200) + "...";
  }

  private int requiredInt(JsonNode answer, String field, String operation) {
    JsonNode value = answer.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw new SchemaRegistryException(
          operation + " answer from " + baseUrl + " lacks an integer " + field + ": " + answer, 200, 0);
    }
    return value.intValue();
  }

  private Schema parse(String schemaJson, String what) {
    if (schemaJson == null) {
      throw new SchemaRegistryException(what + " answer from " + baseUrl + " has no schema", 200, 0);
    }
    try {
      return new Schema.Parser().parse(schemaJson);
    } catch (RuntimeException e) {
      throw new SchemaRegistryException(
          what + " from " + baseUrl + " is not a valid Avro schema: " + e.getMessage(), 200, 0);
    }
  }

  /** Settings of a {@link SchemaRegistryClient}; at most one of basic auth and bearer token applies, the last one set. */
  public static final class Builder {

    private final String baseUrl;
    private String authorization;
    private Duration requestTimeout = Duration.ofSeconds(10);

    private Builder(String baseUrl) {
      URI uri = URI.create(baseUrl.strip());
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
        throw new IllegalArgumentException(
            "schema registry URL must be http(s)://host[:port][/prefix], got '" + baseUrl + "'");
      }
      String url = uri.toString();
      this.baseUrl = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    /** Sends HTTP basic auth with every request. */
    public Builder basicAuth(String username, String password) {
      String pair = username + ":" + password;
      this.authorization =
          "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
      return this;
    }

    /** Sends {@code Authorization: Bearer <token>} with every request. */
    public Builder bearerToken(String token) {
      this.authorization = "Bearer " + token;
      return this;
    }

    /** Limit on connecting and on each request; 10 s unless set. */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    /** Builds the client; it owns an HTTP client, so close it when done. */
    public SchemaRegistryClient build() {
      return new SchemaRegistryClient(this);
    }
  }
}
