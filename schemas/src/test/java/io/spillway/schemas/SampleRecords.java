package io.spillway.schemas;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/** Filled-in records of every schema, with both the null and the set side of optional fields. */
public final class SampleRecords {

  private SampleRecords() {}

  public static InferenceRequest chatRequest() {
    return InferenceRequest.newBuilder()
        .setRequestId("req-1")
        .setSessionId("sess-1")
        .setApiKeyId("key-hash-1")
        .setModel("tiny-llama")
        .setAttempt(1)
        .setReplyTopic("spillway.events")
        .setReplyPartition(3)
        .setCreatedAtMs(1_750_000_000_000L)
        .setKind(RequestKind.CHAT)
        .setMessages(
            List.of(
                new ChatMessage("system", "Be brief."),
                new ChatMessage("user", "Grüße — what is a KV cache? 🚀")))
        .setPromptTokenIds(List.of(1, 15043, 29892))
        .setSampling(sampling(42L, List.of("</s>", "\n\n")))
        .setStream(true)
        .setMetadata(Map.of("traceId", "abc123"))
        .build();
  }

  public static InferenceRequest completionRequest() {
    return InferenceRequest.newBuilder()
        .setRequestId("req-2")
        .setSessionId("sess-2")
        .setApiKeyId("key-hash-2")
        .setModel("tiny-llama")
        .setReplyTopic("spillway.events")
        .setReplyPartition(0)
        .setCreatedAtMs(1_750_000_000_001L)
        .setKind(RequestKind.COMPLETION)
        .setMessages(List.of())
        .setPrompt("Call me Ishmael.")
        .setSampling(sampling(null, List.of()))
        .setStream(false)
        .setJobId("job-7")
        .build();
  }

  private static SamplingOptions sampling(Long seed, List<String> stop) {
    return SamplingOptions.newBuilder()
        .setMaxTokens(128)
        .setTemperature(0.7)
        .setTopK(40)
        .setTopP(0.95)
        .setMinP(0.05)
        .setRepetitionPenalty(1.1)
        .setSeed(seed)
        .setStop(stop)
        .build();
  }

  public static InferenceEvent deltaEvent() {
    return InferenceEvent.newBuilder()
        .setRequestId("req-1")
        .setSessionId("sess-1")
        .setAttempt(1)
        .setSeq(4)
        .setType(EventType.DELTA)
        .setDeltaText(" cache")
        .setTokenIds(List.of(7090))
        .setWorkerId("worker-0")
        .setTimestampMs(1_750_000_000_100L)
        .build();
  }

  public static InferenceEvent finishedEvent() {
    return InferenceEvent.newBuilder()
        .setRequestId("req-1")
        .setSessionId("sess-1")
        .setAttempt(1)
        .setSeq(9)
        .setType(EventType.FINISHED)
        .setFinishReason("stop")
        .setUsage(new Usage(12, 30, 5))
        .setWorkerId("worker-0")
        .setTimestampMs(1_750_000_000_200L)
        .build();
  }

  public static InferenceEvent errorEvent() {
    return InferenceEvent.newBuilder()
        .setRequestId("req-3")
        .setSessionId("sess-3")
        .setAttempt(0)
        .setSeq(1)
        .setType(EventType.ERROR)
        .setError(new ErrorInfo("context_length_exceeded", "4100 tokens > 4096"))
        .setWorkerId("worker-1")
        .setTimestampMs(1_750_000_000_300L)
        .build();
  }

  public static SessionState spilledSession() {
    return SessionState.newBuilder()
        .setSessionId("sess-1")
        .setApiKeyId("key-hash-1")
        .setState(SessionStatus.SPILLED)
        .setLocation("s3://spill/sess-1/v12")
        .setKvMethod("rotatekv-2bit/v1")
        .setTokenCount(2048)
        .setBytes(3_145_728L)
        .setModelFingerprint("sha256:0f3a")
        .setUpdatedAtMs(1_750_000_000_400L)
        .setVersion(12L)
        .build();
  }

  public static SessionState hotSession() {
    return SessionState.newBuilder(spilledSession())
        .setState(SessionStatus.HOT)
        .setWorkerId("worker-0")
        .setLocation(null)
        .setVersion(13L)
        .build();
  }

  public static SummarizationJob job() {
    return SummarizationJob.newBuilder()
        .setJobId("job-7")
        .setDocument("A long document. ".repeat(200))
        .setInstructions("Focus on numbers.")
        .setCallbackTopic("team.summaries")
        .setApiKeyId("key-hash-2")
        .setCreatedAtMs(1_750_000_000_500L)
        .build();
  }

  public static SummarizationResult doneResult() {
    return SummarizationResult.newBuilder()
        .setJobId("job-7")
        .setStatus(JobStatus.DONE)
        .setChunksDone(5)
        .setChunksTotal(5)
        .setSummary("Numbers went up.")
        .setUpdatedAtMs(1_750_000_000_600L)
        .build();
  }

  public static SummarizationResult failedResult() {
    return SummarizationResult.newBuilder()
        .setJobId("job-8")
        .setStatus(JobStatus.FAILED)
        .setChunksDone(2)
        .setChunksTotal(5)
        .setError("worker lost")
        .setUpdatedAtMs(1_750_000_000_700L)
        .build();
  }

  public static DeadLetter deadLetter() {
    return DeadLetter.newBuilder()
        .setTopic("spillway.requests")
        .setPartition(2)
        .setOffset(12_345L)
        .setKey(ByteBuffer.wrap("sess-9".getBytes(StandardCharsets.UTF_8)))
        .setValue(ByteBuffer.wrap(new byte[] {'{', '"', 'x', '"', '}'}))
        .setReason("unknown magic byte 0x7b: not Confluent-framed Avro (JSON?)")
        .setErrorClass("org.apache.kafka.common.errors.SerializationException")
        .setTimestampMs(1_750_000_000_800L)
        .build();
  }

  public static DeadLetter tombstoneDeadLetter() {
    return DeadLetter.newBuilder(deadLetter()).setKey(null).setValue(null).setErrorClass(null).build();
  }

  /** Every sample above. */
  public static List<SpecificRecord> all() {
    return List.of(
        chatRequest(), completionRequest(), deltaEvent(), finishedEvent(), errorEvent(),
        spilledSession(), hotSession(), job(), doneResult(), failedResult(), deadLetter(),
        tombstoneDeadLetter());
  }
}
