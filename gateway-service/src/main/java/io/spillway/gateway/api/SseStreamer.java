package io.spillway.gateway.api;

import io.spillway.gateway.GatewayMetrics;
import io.spillway.gateway.kafka.InferenceCall;
import io.spillway.schemas.InferenceEvent;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes a call's events as OpenAI's server-sent events: {@code data: {json}\n\n} per chunk, then
 * {@code data: [DONE]\n\n}. A write that fails means the client went away: the generation is
 * cancelled. Failures after the status went out travel as a {@code data: {"error": ...}} chunk.
 */
@Component
final class SseStreamer {

  private static final byte[] DATA = "data: ".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII);

  private final JsonMapper json;
  private final GatewayMetrics metrics;

  SseStreamer(JsonMapper json, GatewayMetrics metrics) {
    this.json = json;
    this.metrics = metrics;
  }

  /** Streams {@code call}, whose first event (DELTA or FINISHED) was read already, then closes it. */
  void stream(HttpServletResponse response, InferenceCall call, InferenceEvent first, ChunkFormat format,
      boolean includeUsage, String promptParam) {
    response.setStatus(HttpServletResponse.SC_OK);
    response.setContentType(MediaType.TEXT_EVENT_STREAM_VALUE);
    response.setCharacterEncoding(StandardCharsets.UTF_8);
    response.setHeader(HttpHeaders.CACHE_CONTROL, "no-cache");
    // Proxies such as nginx would otherwise hold chunks back.
    response.setHeader("X-Accel-Buffering", "no");
    try (call) {
      try {
        pump(response.getOutputStream(), call, first, format, includeUsage, promptParam);
      } catch (IOException e) {
        call.cancel("disconnect");
      }
    }
  }

  private void pump(OutputStream out, InferenceCall call, InferenceEvent first, ChunkFormat format,
      boolean includeUsage, String promptParam) throws IOException {
    try {
      Object start = format.start();
      if (start != null) {
        send(out, start);
      }
      for (InferenceEvent event = first; ; event = call.next()) {
        switch (event.getType()) {
          case DELTA -> {
            if (event.getDeltaText() != null && !event.getDeltaText().isEmpty()) {
              send(out, format.delta(event.getDeltaText()));
            }
          }
          case FINISHED -> {
            send(out, format.finish(event.getFinishReason()));
            if (includeUsage) {
              send(out, format.usage(call.usage()));
            }
            out.write(DONE);
            out.flush();
            return;
          }
          case ERROR -> throw WorkerErrors.toApiException(event.getError(), promptParam);
          default -> {} // STARTED: the call consumes it
        }
      }
    } catch (ApiException e) {
      metrics.error(e.status().value(), e.code());
      send(out, e.body());
    }
  }

  private void send(OutputStream out, Object chunk) throws IOException {
    out.write(DATA);
    out.write(json.writeValueAsBytes(chunk));
    out.write(END);
    out.flush();
  }
}
