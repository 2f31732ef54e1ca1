package io.spillway.gateway;

import io.spillway.schemas.ErrorInfo;
import io.spillway.schemas.EventType;
import io.spillway.schemas.Usage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the {@link FakeWorker} answers to one request: events in order, seq numbered per attempt
 * as a worker would, each after an optional pause.
 */
final class Script {

  record Step(EventType type, int attempt, int seq, String text, String finishReason, Usage usage, ErrorInfo error,
      Duration pause) {}

  private final List<Step> steps = new ArrayList<>();
  private int attempt;
  private int seq;
  private Duration pause = Duration.ZERO;

  /** STARTED, one DELTA per text, FINISHED stop with 7 prompt tokens and one completion token per delta. */
  static Script text(String... deltas) {
    Script script = new Script().started();
    for (String delta : deltas) {
      script.delta(delta);
    }
    return script.finished("stop", 7, deltas.length);
  }

  /** STARTED then an ERROR. */
  static Script failing(String code, String message) {
    return new Script().started().error(code, message);
  }

  /** Nothing at all: a worker that never answers. */
  static Script silence() {
    return new Script();
  }

  Script started() {
    return add(EventType.STARTED, null, null, null, null);
  }

  Script delta(String text) {
    return add(EventType.DELTA, text, null, null, null);
  }

  Script finished(String reason, int promptTokens, int completionTokens) {
    return add(EventType.FINISHED, null, reason, new Usage(promptTokens, completionTokens, 0), null);
  }

  Script error(String code, String message) {
    return add(EventType.ERROR, null, null, null, new ErrorInfo(code, message));
  }

  /** A record that is no event (not Avro): {@code type} null. */
  Script garbage() {
    steps.add(new Step(null, attempt, seq++, null, null, null, null, pause));
    return this;
  }

  /** Sends the last event once more, same attempt and seq: a duplicate. */
  Script again() {
    steps.add(steps.getLast());
    return this;
  }

  /** What follows is a re-delivery of the request: a new attempt, seq from 0 again. */
  Script attempt(int attempt) {
    this.attempt = attempt;
    this.seq = 0;
    return this;
  }

  /** Waits {@code pause} before each following event. */
  Script pauses(Duration pause) {
    this.pause = pause;
    return this;
  }

  List<Step> steps() {
    return steps;
  }

  private Script add(EventType type, String text, String finishReason, Usage usage, ErrorInfo error) {
    steps.add(new Step(type, attempt, seq++, text, finishReason, usage, error, pause));
    return this;
  }
}
