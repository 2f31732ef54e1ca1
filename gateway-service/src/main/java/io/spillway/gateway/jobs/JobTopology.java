package io.spillway.gateway.jobs;

import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.SummarizationJob;
import io.spillway.schemas.registry.SchemaRegistryClient;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import java.nio.charset.StandardCharsets;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.TopicNameExtractor;
import org.apache.kafka.streams.state.Stores;

/**
 * One sub-topology: the jobs topic and the jobs' event topic are read by the same task per
 * partition (they are co-partitioned: a job's requests are answered on the job's own partition), so
 * the job store needs no repartitioning.
 */
public final class JobTopology {
  public static final String STORE = "jobs";

  private JobTopology() {}

  public static Topology build(JobTopics topics, JobLimits limits, Chunker chunker, JobRequests requests, JobTimeouts timeouts,
      SchemaRegistryClient registry) {
    Topology t = new Topology();
    t.addSource(JobProcessor.JOBS_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.jobs());
    t.addSource(JobProcessor.EVENTS_SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.events());
    t.addProcessor("job-flow", () -> new JobProcessor(topics, limits, chunker, requests, timeouts,
        new SpillwayAvroDeserializer<>(registry, SummarizationJob.class), new SpillwayAvroDeserializer<>(registry, InferenceEvent.class)),
        JobProcessor.JOBS_SOURCE, JobProcessor.EVENTS_SOURCE);
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), JobStateSerde.serde()),
        "job-flow");
    var values = new SpillwayAvroSerializer<SpecificRecord>(registry);
    var keys = new StringSerializer();
    t.addSink(JobProcessor.REQUESTS_SINK, topics.requests(), keys, values, "job-flow");
    t.addSink(JobProcessor.RESULTS_SINK, topics.summaries(), keys, values, "job-flow");
    t.addSink(JobProcessor.DLQ_SINK, topics.deadLetters(), keys, values, "job-flow");
    TopicNameExtractor<String, SpecificRecord> callback = (key, value, context) -> {
      Header h = context.headers().lastHeader(JobProcessor.CALLBACK_HEADER);
      return new String(h.value(), StandardCharsets.UTF_8);
    };
    t.addSink(JobProcessor.CALLBACK_SINK, callback, keys, values, "job-flow");
    return t;
  }
}
