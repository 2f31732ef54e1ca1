package io.spillway.gateway.api;

import io.spillway.gateway.GatewayMetrics;
import io.spillway.gateway.auth.ApiKey;
import io.spillway.gateway.auth.ApiKeyInterceptor;
import io.spillway.gateway.auth.SessionOwners;
import io.spillway.gateway.kafka.InferenceCall;
import io.spillway.gateway.kafka.InferenceCalls;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.time.Instant;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestAttribute;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * OpenAI's {@code /v1/chat/completions}, {@code /v1/completions} and {@code /v1/models}. Each
 * completion is one request on Kafka, served on its own virtual thread, which blocks while it waits
 * for the worker's events.
 */
@RestController
@RequestMapping("/v1")
public final class OpenAiController {

  // Both echoed on every answer; a client keeps X-Session-Id to continue a session it did not name.
  private static final String SESSION_HEADER = "X-Session-Id";
  private static final String REQUEST_ID_HEADER = "X-Request-Id";
  private static final String CHAT = "chat.completions";
  private static final String TEXT = "completions";

  private final InferenceRequests requests;
  private final SessionOwners sessions;
  private final InferenceCalls calls;
  private final SseStreamer sse;
  private final GatewayMetrics metrics;
  private final long startedAt = Instant.now().getEpochSecond();

  OpenAiController(
      InferenceRequests requests, SessionOwners sessions, InferenceCalls calls, SseStreamer sse, GatewayMetrics metrics) {
    this.requests = requests;
    this.sessions = sessions;
    this.calls = calls;
    this.sse = sse;
    this.metrics = metrics;
  }

  @GetMapping("/models")
  public ModelList models() {
    return new ModelList(requests.models().stream().map(id -> new ModelList.Model(id, startedAt)).toList());
  }

  @PostMapping("/chat/completions")
  public ResponseEntity<?> chatCompletions(
      @RequestAttribute(ApiKeyInterceptor.ATTRIBUTE) ApiKey apiKey,
      @RequestHeader(value = SESSION_HEADER, required = false) String sessionHeader,
      @RequestBody ChatCompletionRequest body,
      HttpServletResponse response) {
    boolean stream = Boolean.TRUE.equals(body.stream());
    metrics.request(CHAT, stream);
    InferenceRequest.Builder content = requests.chat(body, apiKey);
    content.setSessionId(sessions.resolve(sessionHeader, body.user(), apiKey));
    InferenceCall call = calls.start(content, CHAT);
    InferenceRequest request = call.request();
    String id = "chatcmpl-" + request.getRequestId();
    long created = request.getCreatedAtMs() / 1000;
    if (stream) {
      return stream(call, new ChunkFormat.Chat(id, created, request.getModel()), body.streamOptions(), "messages", response);
    }
    try (call) {
      Answer answer = collect(call, "messages");
      return headers(request)
          .body(ChatCompletion.of(id, created, request.getModel(), answer.text(), answer.finishReason(), call.usage()));
    }
  }

  @PostMapping("/completions")
  public ResponseEntity<?> completions(
      @RequestAttribute(ApiKeyInterceptor.ATTRIBUTE) ApiKey apiKey,
      @RequestHeader(value = SESSION_HEADER, required = false) String sessionHeader,
      @RequestBody CompletionRequest body,
      HttpServletResponse response) {
    boolean stream = Boolean.TRUE.equals(body.stream());
    metrics.request(TEXT, stream);
    InferenceRequest.Builder content = requests.completion(body, apiKey);
    content.setSessionId(sessions.resolve(sessionHeader, body.user(), apiKey));
    InferenceCall call = calls.start(content, TEXT);
    InferenceRequest request = call.request();
    String id = "cmpl-" + request.getRequestId();
    long created = request.getCreatedAtMs() / 1000;
    if (stream) {
      return stream(call, new ChunkFormat.Text(id, created, request.getModel()), body.streamOptions(), "prompt", response);
    }
    try (call) {
      Answer answer = collect(call, "prompt");
      TextCompletion.Choice choice = new TextCompletion.Choice(answer.text(), 0, null, answer.finishReason());
      return headers(request).body(new TextCompletion(id, created, request.getModel(), choice, call.usage()));
    }
  }

  /**
   * Writes the stream here, on this request's virtual thread, and returns null: Spring then takes
   * the response as handled. The status is sent only with the first token, so an error the worker
   * reports before it still gets its own status.
   */
  private ResponseEntity<?> stream(
      InferenceCall call, ChunkFormat format, StreamOptions options, String promptParam, HttpServletResponse response) {
    InferenceEvent first;
    try {
      first = call.next();
      if (first.getType() == EventType.ERROR) {
        throw WorkerErrors.toApiException(first.getError(), promptParam);
      }
    } catch (RuntimeException e) {
      call.close();
      throw e;
    }
    response.setHeader(REQUEST_ID_HEADER, call.request().getRequestId());
    response.setHeader(SESSION_HEADER, call.request().getSessionId());
    boolean includeUsage = options != null && Boolean.TRUE.equals(options.includeUsage());
    sse.stream(response, call, first, format, includeUsage, promptParam);
    return null;
  }

  /** The whole text of a non-streamed completion. */
  private static Answer collect(InferenceCall call, String promptParam) {
    StringBuilder text = new StringBuilder();
    while (true) {
      InferenceEvent event = call.next();
      switch (event.getType()) {
        case DELTA -> {
          if (event.getDeltaText() != null) {
            text.append(event.getDeltaText());
          }
        }
        case FINISHED -> {
          return new Answer(text.toString(), event.getFinishReason());
        }
        case ERROR -> throw WorkerErrors.toApiException(event.getError(), promptParam);
        default -> {} // STARTED: the call consumes it
      }
    }
  }

  private static ResponseEntity.BodyBuilder headers(InferenceRequest request) {
    return ResponseEntity.ok()
        .header(REQUEST_ID_HEADER, request.getRequestId())
        .header(SESSION_HEADER, request.getSessionId());
  }

  private record Answer(String text, String finishReason) {}
}
