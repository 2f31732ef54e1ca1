package io.spillway.gateway.jobs;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/** JSON for the job store and its changelog: readable with kafka-console-consumer, and only this topology reads it. */
final class JobStateSerde {
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private JobStateSerde() {}

  static Serde<JobState> serde() {
    Serializer<JobState> ser = (topic, state) -> state == null ? null : JSON.writeValueAsBytes(state);
    Deserializer<JobState> de = (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      try {
        return JSON.readValue(bytes, JobState.class);
      } catch (JacksonException e) {
        throw new SerializationException("unreadable job state in " + topic + ": " + e.getOriginalMessage(), e);
      }
    };
    return Serdes.serdeFrom(ser, de);
  }
}
