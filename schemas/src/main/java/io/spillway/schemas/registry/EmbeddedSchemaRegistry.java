package io.spillway.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.spillway.schemas.AvroCompatibility;
import java.io.IOException;
import java.io.Serial;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;

/**
 * A minimal schema registry inside the JVM, for the laptop/CI embedded setup and for tests only;
 * a real deployment uses the cluster's registry (Confluent, Apicurio, Karapace, Redpanda).
 *
 * <p>Serves the subset of the Confluent REST API that {@link SchemaRegistryClient} uses, plus
 * {@code GET /subjects/{s}/versions} and {@code GET /subjects/{s}/versions/{n|latest}}, both at the
 * root and under Apicurio's prefix {@code /apis/ccompat/v7}. Avro only, no schema references, no
 * deletes, no per-subject config: every subject is BACKWARD (a new version must be able to read
 * data written with the latest one), refused with HTTP 409 / error_code 409. Ids are global and
 * stable: the same schema text gets the same id under every subject. What it registers goes to a
 * {@link SchemaStore} and is replayed from there on start.
 */
public final class EmbeddedSchemaRegistry implements AutoCloseable {

  /** Path prefix under which Apicurio serves its Confluent-compatible API; served here as well. */
  public static final String CCOMPAT_PREFIX = "/apis/ccompat/v7";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final SchemaStore store;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final List<Route> routes =
      List.of(
          new Route("GET", "/subjects", (p, body) -> subjects()),
          new Route("POST", "/subjects/([^/]+)", (p, body) -> lookup(p.get(0), schemaIn(body))),
          new Route("GET", "/subjects/([^/]+)/versions", (p, body) -> versions(p.get(0))),
          new Route("POST", "/subjects/([^/]+)/versions", (p, body) -> register(p.get(0), schemaIn(body))),
          new Route("GET", "/subjects/([^/]+)/versions/([^/]+)", (p, body) -> version(p.get(0), p.get(1))),
          new Route("GET", "/schemas/ids/([^/]+)", (p, body) -> schemaById(p.get(0))),
          new Route(
              "POST",
              "/compatibility/subjects/([^/]+)/versions/([^/]+)",
              (p, body) -> compatibility(p.get(0), p.get(1), schemaIn(body))));

  // Registry state, guarded by this; rebuilt from the store on start.
  private final Map<String, List<StoredSchema>> versionsBySubject = new TreeMap<>();
  private final Map<Integer, Schema> schemasById = new HashMap<>();
  private final Map<String, Integer> idsBySchemaText = new HashMap<>();
  private int nextId = 1;

  private EmbeddedSchemaRegistry(InetSocketAddress address, SchemaStore store) throws IOException {
    this.store = store;
    store.loadAll().forEach(this::apply);
    this.server = HttpServer.create(address, 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** Starts a registry with an in-memory store on the loopback interface; port 0 picks a free one. */
  public static EmbeddedSchemaRegistry start(int port) {
    return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), new InMemorySchemaStore());
  }

  /** Starts a registry on {@code address} that replays and appends to {@code store}. */
  public static EmbeddedSchemaRegistry start(InetSocketAddress address, SchemaStore store) {
    try {
      return new EmbeddedSchemaRegistry(address, store);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded schema registry on " + address, e);
    }
  }

  /** The port it listens on. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Base URL of the Confluent-style API, e.g. {@code http://127.0.0.1:41234}. */
  public String url() {
    InetAddress address = server.getAddress().getAddress();
    String host =
        address.isAnyLocalAddress()
            ? "localhost"
            : address instanceof Inet6Address ? "[" + address.getHostAddress() + "]" : address.getHostAddress();
    return "http://" + host + ":" + port();
  }

  /** Base URL of the same API under Apicurio's prefix, {@code url() + "/apis/ccompat/v7"}. */
  public String ccompatUrl() {
    return url() + CCOMPAT_PREFIX;
  }

  /** Stops serving at once. */
  @Override
  public void close() {
    server.stop(0);
    executor.close();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      int status = 200;
      Object answer;
      try {
        answer = dispatch(exchange);
      } catch (ApiError e) {
        status = e.status;
        answer = errorBody(e.errorCode, e.getMessage());
      } catch (RuntimeException e) {
        status = 500;
        answer = errorBody(50001, "embedded schema registry failed: " + e);
      }
      byte[] bytes = JSON.writeValueAsBytes(answer);
      exchange.getResponseHeaders().set("Content-Type", SchemaRegistryClient.CONTENT_TYPE);
      exchange.sendResponseHeaders(status, bytes.length);
      exchange.getResponseBody().write(bytes);
    }
  }

  private Object dispatch(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    if (path.equals(CCOMPAT_PREFIX) || path.startsWith(CCOMPAT_PREFIX + "/")) {
      path = path.substring(CCOMPAT_PREFIX.length());
    }
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    String method = exchange.getRequestMethod();
    boolean pathKnown = false;
    for (Route route : routes) {
      Matcher matcher = route.path.matcher(path);
      if (matcher.matches()) {
        pathKnown = true;
        if (route.method.equals(method)) {
          List<String> params = new ArrayList<>();
          for (int g = 1; g <= matcher.groupCount(); g++) {
            // Path segments, not form data: a '+' is a plus sign.
            params.add(URLDecoder.decode(matcher.group(g).replace("+", "%2B"), StandardCharsets.UTF_8));
          }
          return route.endpoint.serve(params, exchange.getRequestBody().readAllBytes());
        }
      }
    }
    throw pathKnown
        ? new ApiError(405, 405, "HTTP 405 Method Not Allowed: " + method + " " + path)
        : new ApiError(404, 404, "HTTP 404 Not Found: " + method + " " + path);
  }

  private synchronized List<String> subjects() {
    return List.copyOf(versionsBySubject.keySet());
  }

  private synchronized List<Integer> versions(String subject) {
    return versionsOf(subject).stream().map(StoredSchema::version).toList();
  }

  private synchronized Map<String, Object> version(String subject, String version) {
    return describe(versionOf(subject, version));
  }

  private synchronized Map<String, Object> schemaById(String idText) {
    Schema schema = null;
    try {
      schema = schemasById.get(Integer.parseInt(idText));
    } catch (NumberFormatException e) {
      // an id that is not a number is as unknown as one that is not registered
    }
    if (schema == null) {
      throw new ApiError(404, 40403, "Schema " + idText + " not found");
    }
    return Map.of("schema", schema.toString());
  }

  private synchronized Map<String, Object> lookup(String subject, Schema schema) {
    String text = schema.toString();
    return versionsOf(subject).stream()
        .filter(v -> v.schema().equals(text))
        .findFirst()
        .map(this::describe)
        .orElseThrow(() -> new ApiError(404, 40403, "Schema not found under subject '" + subject + "'"));
  }

  private synchronized Map<String, Object> register(String subject, Schema schema) {
    String text = schema.toString();
    List<StoredSchema> existing = versionsBySubject.getOrDefault(subject, List.of());
    for (StoredSchema version : existing) {
      if (version.schema().equals(text)) {
        return Map.of("id", version.id());
      }
    }
    if (!existing.isEmpty()) {
      List<String> problems = backwardProblems(schema, existing.getLast());
      if (!problems.isEmpty()) {
        throw new ApiError(
            409,
            409,
            "Schema being registered is incompatible with an earlier schema for subject '"
                + subject + "' (BACKWARD), details: " + problems);
      }
    }
    int version = existing.isEmpty() ? 1 : existing.getLast().version() + 1;
    StoredSchema entry =
        new StoredSchema(subject, version, idsBySchemaText.getOrDefault(text, nextId), text);
    store.append(entry);
    apply(entry);
    return Map.of("id", entry.id());
  }

  private synchronized Map<String, Object> compatibility(String subject, String version, Schema schema) {
    return Map.of("is_compatible", backwardProblems(schema, versionOf(subject, version)).isEmpty());
  }

  private List<String> backwardProblems(Schema candidate, StoredSchema against) {
    return AvroCompatibility.problems(candidate, schemasById.get(against.id()));
  }

  private void apply(StoredSchema entry) {
    versionsBySubject.computeIfAbsent(entry.subject(), s -> new ArrayList<>()).add(entry);
    schemasById.computeIfAbsent(entry.id(), id -> new Schema.Parser().parse(entry.schema()));
    idsBySchemaText.putIfAbsent(entry.schema(), entry.id());
    nextId = Math.max(nextId, entry.id() + 1);
  }

  private List<StoredSchema> versionsOf(String subject) {
    List<StoredSchema> versions = versionsBySubject.get(subject);
    if (versions == null) {
      throw new ApiError(404, 40401, "Subject '" + subject + "' not found.");
    }
    return versions;
  }

  private StoredSchema versionOf(String subject, String version) {
    List<StoredSchema> versions = versionsOf(subject);
    if (version.equals("latest") || version.equals("-1")) {
      return versions.getLast();
    }
    int number;
    try {
      number = Integer.parseInt(version);
    } catch (NumberFormatException e) {
      number = 0;
    }
    if (number < 1) {
      throw new ApiError(
          422, 42202, "The specified version '" + version + "' is not a valid version id: use 1, 2, ... or latest");
    }
    int wanted = number;
    return versions.stream()
        .filter(v -> v.version() == wanted)
        .findFirst()
        .orElseThrow(() -> new ApiError(404, 40402, "Version " + version + " not found."));
  }

  private Map<String, Object> describe(StoredSchema entry) {
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("subject", entry.subject());
    answer.put("version", entry.version());
    answer.put("id", entry.id());
    answer.put("schema", entry.schema());
    return answer;
  }

  private static Schema schemaIn(byte[] body) {
    JsonNode request;
    try {
      request = JSON.readTree(body);
    } catch (IOException e) {
      throw new ApiError(400, 400, "request body is not JSON: " + e.getMessage());
    }
    if (request == null || !request.path("schema").isTextual()) {
      throw new ApiError(422, 42201, "request body needs a \"schema\" string");
    }
    String type = request.path("schemaType").asText("AVRO");
    if (!type.equals("AVRO")) {
      throw new ApiError(422, 42201, "the embedded registry only holds AVRO schemas, not " + type);
    }
    if (!request.path("references").isEmpty()) {
      throw new ApiError(422, 42201, "the embedded registry does not support schema references");
    }
    try {
      return new Schema.Parser().parse(request.get("schema").asText());
    } catch (AvroRuntimeException e) { // SchemaParseException, or AvroTypeException for a bad default
      throw new ApiError(422, 42201, "Invalid schema: " + e.getMessage());
    }
  }

  private static Map<String, Object> errorBody(int errorCode, String message) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("error_code", errorCode);
    body.put("message", message);
    return body;
  }

  /** What an endpoint does with its path parameters and request body; returns the JSON answer. */
  private interface Endpoint {
    Object serve(List<String> params, byte[] body);
  }

  private record Route(String method, Pattern path, Endpoint endpoint) {
    Route(String method, String path, Endpoint endpoint) {
      this(method, Pattern.compile(path), endpoint);
    }
  }

  /** An answer with an error status and the registry's error_code. */
  private static final class ApiError extends RuntimeException {
    @Serial private static final long serialVersionUID = 1L;
    final int status;
    final int errorCode;

    ApiError(int status, int errorCode, String message) {
      super(message);
      this.status = status;
      this.errorCode = errorCode;
    }
  }
}
