package io.spillway.gateway.jobs;

import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.schemas.DeadLetter;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.JobStatus;
import io.spillway.schemas.SummarizationJob;
import io.spillway.schemas.SummarizationResult;
import io.spillway.schemas.registry.EmbeddedSchemaRegistry;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The job flow on TopologyTestDriver, with the model's answers played by the test. */
class JobTopologyTest {
  private static final JobTopics TOPICS = new JobTopics("jobs", "job-events", "summaries", "jobs.dlq", "requests");
  private static EmbeddedSchemaRegistry registryServer;
  private static SchemaRegistryClient registry;
  private static Tokenizer tokenizer;

  private TopologyTestDriver driver;
  private TestInputTopic<String, SpecificRecord> jobs;
  private TestInputTopic<String, SpecificRecord> events;
  private TestOutputTopic<String, InferenceRequest> requests;
  private TestOutputTopic<String, SummarizationResult> results;
  private TestOutputTopic<String, DeadLetter> deadLetters;

  @BeforeAll
  static void startRegistry() {
    registryServer = EmbeddedSchemaRegistry.start(0);
    registry = SchemaRegistryClient.builder(registryServer.url()).build();
    Path dir = Path.of("").toAbsolutePath();
    while (!Files.isDirectory(dir.resolve("models/tiny-llama"))) {
      dir = dir.getParent();
    }
    tokenizer = Tokenizer.load(dir.resolve("models/tiny-llama"));
  }

  @AfterAll
  static void stopRegistry() {
    registry.close();
    registryServer.close();
  }

  @BeforeEach
  void start() {
    Chunker chunker = new Chunker(tokenizer, 64, 8);
    var topology = JobTopology.build(TOPICS, new JobLimits(100_000, 2_000, 1_000, 10, 400), chunker,
        new JobRequests("tiny-llama", TOPICS.events(), 16, 2), new JobTimeouts(Duration.ofHours(1), Duration.ofMinutes(10)), registry);
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, "jobs-test");
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    driver = new TopologyTestDriver(topology, p);
    var serializer = new SpillwayAvroSerializer<SpecificRecord>(registry);
    jobs = driver.createInputTopic(TOPICS.jobs(), new StringSerializer(), serializer);
    events = driver.createInputTopic(TOPICS.events(), new StringSerializer(), serializer);
    requests = driver.createOutputTopic(TOPICS.requests(), new StringDeserializer(),
        new SpillwayAvroDeserializer<>(registry, InferenceRequest.class));
    results = driver.createOutputTopic(TOPICS.summaries(), new StringDeserializer(),
        new SpillwayAvroDeserializer<>(registry, SummarizationResult.class));
    deadLetters = driver.createOutputTopic(TOPICS.deadLetters(), new StringDeserializer(),
        new SpillwayAvroDeserializer<>(registry, DeadLetter.class));
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  private static SummarizationJob job(String id, String document) {
    return new SummarizationJob(id, document, null, 50, null, "key-1", 0L);
  }

  /** A document of {@code sentences} distinct sentences, about 12 tokens each. */
  private static String document(int sentences) {
    return IntStream.range(0, sentences).mapToObj(i -> "The fox number " + i + " ran over the green hill to see the sea.")
        .collect(Collectors.joining(" "));
  }

  private void answer(InferenceRequest r, String text) {
    events.pipeInput(r.getRequestId(), event(r, 1, EventType.DELTA, text));
    events.pipeInput(r.getRequestId(), event(r, 2, EventType.FINISHED, null));
  }

  private static InferenceEvent event(InferenceRequest r, int seq, EventType type, String text) {
    return InferenceEvent.newBuilder().setRequestId(r.getRequestId()).setSessionId(r.getSessionId()).setAttempt(r.getAttempt()).setSeq(seq)
        .setType(type).setDeltaText(text).setWorkerId("w").setTimestampMs(0).build();
  }

  private JobState state(String id) {
    KeyValueStore<String, JobState> store = driver.getKeyValueStore(JobTopology.STORE);
    return store.get(id);
  }

  @Test
  void aMultiChunkJobIsSummarizedChunkByChunkThenReduced() {
    jobs.pipeInput("j1", job("j1", document(12)));
    List<InferenceRequest> chunks = requests.readValuesToList();
    assertThat(chunks.size()).isGreaterThan(1);
    assertThat(chunks).extracting(InferenceRequest::getRequestId)
        .containsExactlyElementsOf(IntStream.range(0, chunks.size()).mapToObj(i -> "j1/0/" + i).toList());
    assertThat(chunks).allSatisfy(r -> {
      assertThat(r.getReplyTopic()).isEqualTo(TOPICS.events());
      assertThat(r.getSampling().getTemperature()).isZero();
      assertThat(r.getJobId()).isEqualTo("j1");
      assertThat(r.getApiKeyId()).isEqualTo("key-1");
    });
    assertThat(results.readValue().getStatus()).isEqualTo(JobStatus.RUNNING);
    for (int i = 0; i < chunks.size(); i++) {
      answer(chunks.get(i), "Fox " + i + " ran.");
      if (i < chunks.size() - 1) {
        SummarizationResult progress = results.readValue();
        assertThat(progress.getChunksDone()).isEqualTo(i + 1);
        assertThat(progress.getChunksTotal()).isEqualTo(chunks.size() + 1);
      }
    }
    List<InferenceRequest> reduce = requests.readValuesToList();
    assertThat(reduce).extracting(InferenceRequest::getRequestId).containsExactly("j1/1/0");
    assertThat(reduce.getFirst().getMessages().getLast().getContent()).contains("Fox 0 ran.").contains("Fox 1 ran.");
    results.readValuesToList();
    answer(reduce.getFirst(), "Foxes ran to the sea.");
    SummarizationResult done = results.readValue();
    assertThat(done.getStatus()).isEqualTo(JobStatus.DONE);
    assertThat(done.getSummary()).isEqualTo("Foxes ran to the sea.");
    assertThat(done.getChunksDone()).isEqualTo(done.getChunksTotal()).isEqualTo(chunks.size() + 1);
  }

  @Test
  void summariesThatDoNotFitOnePromptAreReducedInSeveralLevels() {
    jobs.pipeInput("j2", job("j2", document(40)));
    List<InferenceRequest> level = requests.readValuesToList();
    int levels = 0;
    while (level.size() > 1) {
      for (InferenceRequest r : level) {
        answer(r, "A short partial summary about foxes running far over many green hills.");
      }
      levels++;
      level = requests.readValuesToList();
    }
    assertThat(levels).isGreaterThanOrEqualTo(2);
    answer(level.getFirst(), "All the foxes ran.");
    assertThat(results.readValuesToList().getLast().getSummary()).isEqualTo("All the foxes ran.");
  }

  @Test
  void aRedeliveredJobAndRepeatedEventsChangeNothing() {
    jobs.pipeInput("j3", job("j3", document(3)));
    InferenceRequest only = requests.readValue();
    assertThat(requests.isEmpty()).isTrue();
    jobs.pipeInput("j3", job("j3", document(3)));
    assertThat(requests.isEmpty()).isTrue();
    results.readValuesToList();
    answer(only, "Three foxes.");
    // The worker ran the request again after a crash: the same events arrive again.
    answer(only, "Three foxes.");
    List<SummarizationResult> out = results.readValuesToList();
    assertThat(out).extracting(SummarizationResult::getStatus).containsExactly(JobStatus.DONE);
    assertThat(out.getFirst().getSummary()).isEqualTo("Three foxes.");
    jobs.pipeInput("j3", job("j3", document(3)));
    assertThat(results.isEmpty()).isTrue();
  }

  @Test
  void invalidJobsGoToTheDeadLetterTopicAndTheirStatusSaysWhy() {
    jobs.pipeInput("j4", job("j4", "  "));
    jobs.pipeInput("j5", new SummarizationJob("j5", "text", null, 5, null, "key-1", 0L));
    jobs.pipeInput("j6", job("j6", document(400)));
    jobs.pipeInput("j7", new SummarizationJob("j7", "text", null, 50, "bad topic!", "key-1", 0L));
    jobs.pipeInput("j 8", new SummarizationJob("j 8", "text", null, 50, null, "key-1", 0L));
    assertThat(deadLetters.readValuesToList()).extracting(DeadLetter::getReason)
        .containsExactly("document must not be empty", "targetWords must be between 10 and 400",
            state("j6").error(), "callbackTopic is not a valid Kafka topic name",
            "jobId must be 1-200 characters of letters, digits and . _ : -");
    assertThat(state("j6").error()).contains("tokens").contains("2000");
    assertThat(state("j4").status()).isEqualTo(JobStatus.FAILED);
    assertThat(results.readValuesToList()).extracting(SummarizationResult::getStatus).containsOnly(JobStatus.FAILED).hasSize(5);
    assertThat(requests.isEmpty()).isTrue();
  }

  @Test
  void undecodableRecordsGoToTheDeadLetterTopic() {
    driver.createInputTopic(TOPICS.jobs(), new StringSerializer(), new ByteArraySerializer()).pipeInput("j8", "{not avro".getBytes());
    DeadLetter dead = deadLetters.readValue();
    assertThat(dead.getReason()).startsWith("undecodable job");
    assertThat(dead.getTopic()).isEqualTo(TOPICS.jobs());
    assertThat(state("j8").status()).isEqualTo(JobStatus.FAILED);
  }

  private void fail(InferenceRequest r, int seq, String code) {
    events.pipeInput(r.getRequestId(), InferenceEvent.newBuilder(event(r, seq, EventType.ERROR, null))
        .setError(new io.spillway.schemas.ErrorInfo(code, "it broke")).build());
  }

  @Test
  void aChunkTheWorkerFailedOnIsAskedAgainUntilItsAttemptsRunOut() {
    jobs.pipeInput("j10", job("j10", document(12)));
    List<InferenceRequest> chunks = requests.readValuesToList();
    InferenceRequest first = chunks.getFirst();
    results.readValuesToList();
    events.pipeInput(first.getRequestId(), event(first, 1, EventType.DELTA, "Half an ans"));
    fail(first, 2, "internal_error");
    var retried = requests.readRecord();
    InferenceRequest again = retried.value();
    assertThat(again.getRequestId()).isEqualTo(first.getRequestId());
    assertThat(again.getAttempt()).isEqualTo(1);
    assertThat(again.getMessages()).isEqualTo(first.getMessages());
    // Keyed by a session of its own, the retry most likely goes to another partition than the worker that failed.
    assertThat(again.getSessionId()).isEqualTo(first.getRequestId() + "~1");
    assertThat(retried.key()).isEqualTo(again.getSessionId());
    assertThat(results.isEmpty()).isTrue();
    // A late event of the failed attempt is stale; the new attempt's text replaces the old one's.
    events.pipeInput(first.getRequestId(), event(first, 3, EventType.DELTA, "stale"));
    answer(again, "Fox 0 ran.");
    assertThat(state("j10").outputs().getFirst()).isEqualTo("Fox 0 ran.");
    assertThat(results.readValue().getChunksDone()).isEqualTo(1);
    // The second attempt of another chunk is its last (max-chunk-attempts 2).
    InferenceRequest second = chunks.get(1);
    fail(second, 1, "internal_error");
    InferenceRequest last = requests.readValue();
    fail(last, 1, "internal_error");
    assertThat(requests.isEmpty()).isTrue();
    SummarizationResult failed = results.readValue();
    assertThat(failed.getStatus()).isEqualTo(JobStatus.FAILED);
    assertThat(failed.getError()).isEqualTo("chunk 1 of level 0 failed (attempt 2): internal_error: it broke");
  }

  @Test
  void endedJobsAreForgottenOnceTheirRetentionHasPassedAndRunningOnesStay() {
    jobs.pipeInput("j11", job("j11", document(3)));
    answer(requests.readValue(), "Three foxes.");
    jobs.pipeInput("j12", job("j12", document(3)));
    requests.readValuesToList();
    driver.advanceWallClockTime(Duration.ofMinutes(30));
    assertThat(state("j11").status()).isEqualTo(JobStatus.DONE);
    driver.advanceWallClockTime(Duration.ofMinutes(40));
    assertThat(state("j11")).isNull();
    assertThat(state("j12").status()).isEqualTo(JobStatus.RUNNING);
    // Forgotten, the id may run again.
    jobs.pipeInput("j11", job("j11", document(3)));
    assertThat(requests.readValuesToList()).hasSize(1);
  }

  @Test
  void aChunkItsWorkerWentSilentOnIsAskedAgainAndFailsTheJobOnceItsAttemptsRunOut() {
    jobs.pipeInput("j13", job("j13", document(12)));
    List<InferenceRequest> chunks = requests.readValuesToList();
    results.readValuesToList();
    InferenceRequest first = chunks.getFirst();
    // A worker takes the first chunk and goes silent; the others wait in Kafka, untaken, and are not timed.
    events.pipeInput(first.getRequestId(), event(first, 0, EventType.STARTED, null));
    driver.advanceWallClockTime(Duration.ofMinutes(9));
    assertThat(requests.isEmpty()).isTrue();
    driver.advanceWallClockTime(Duration.ofMinutes(3));
    InferenceRequest again = requests.readValue();
    assertThat(again.getRequestId()).isEqualTo(first.getRequestId());
    assertThat(again.getAttempt()).isEqualTo(1);
    assertThat(requests.isEmpty()).isTrue();
    assertThat(results.isEmpty()).isTrue();
    // Each word from the worker starts the wait again.
    events.pipeInput(again.getRequestId(), event(again, 0, EventType.STARTED, null));
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    events.pipeInput(again.getRequestId(), event(again, 1, EventType.DELTA, "Fox"));
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    assertThat(requests.isEmpty()).isTrue();
    assertThat(state("j13").status()).isEqualTo(JobStatus.RUNNING);
    // Silent again past the timeout on its last attempt (max-chunk-attempts 2): the job fails, saying why.
    driver.advanceWallClockTime(Duration.ofMinutes(6));
    assertThat(requests.isEmpty()).isTrue();
    SummarizationResult failed = results.readValue();
    assertThat(failed.getStatus()).isEqualTo(JobStatus.FAILED);
    assertThat(failed.getError()).isEqualTo("chunk 0 of level 0 had no answer from its worker for 600 s (attempt 2)");
    assertThat(state("j13").inputs()).isEmpty();
  }

  @Test
  void settingsOutOfRangeAreRefusedByName() {
    assertThatThrownBy(() -> new JobRequests("tiny-llama", TOPICS.events(), 16, 0))
        .hasMessage("spillway.jobs.max-chunk-attempts must be at least 1, not 0");
    assertThatThrownBy(() -> new JobTimeouts(Duration.ofHours(-1), Duration.ZERO))
        .hasMessage("spillway.jobs.retention must be 0 (keep ended jobs forever) or more, not PT-1H");
    assertThatThrownBy(() -> new JobTimeouts(Duration.ZERO, Duration.ofSeconds(-5)))
        .hasMessage("spillway.jobs.chunk-timeout must be 0 (wait forever) or more, not PT-5S");
    assertThat(new JobTimeouts(Duration.ZERO, Duration.ZERO).sweepInterval()).isNull();
    assertThat(new JobTimeouts(Duration.ofDays(7), Duration.ofMinutes(10)).sweepInterval()).isEqualTo(Duration.ofSeconds(150));
    assertThat(new JobTimeouts(Duration.ofDays(7), Duration.ZERO).sweepInterval()).isEqualTo(Duration.ofMinutes(10));
  }

  @Test
  void aFailedChunkFailsTheJob() {
    jobs.pipeInput("j9", job("j9", document(3)));
    InferenceRequest r = requests.readValue();
    results.readValuesToList();
    fail(r, 1, "context_length_exceeded");
    SummarizationResult failed = results.readValue();
    assertThat(failed.getStatus()).isEqualTo(JobStatus.FAILED);
    assertThat(failed.getError()).contains("context_length_exceeded");
  }
}
