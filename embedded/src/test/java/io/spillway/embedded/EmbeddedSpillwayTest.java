package io.spillway.embedded;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import io.spillway.schemas.EventType;
import io.spillway.schemas.InferenceEvent;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.RequestKind;
import io.spillway.schemas.SamplingOptions;
import io.spillway.schemas.serde.SpillwayAvroDeserializer;
import io.spillway.schemas.serde.SpillwayAvroSerdeConfig;
import io.spillway.schemas.serde.SpillwayAvroSerializer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The one-JVM default, end to end: the official OpenAI client against the gateway, through Kafka, to
 * the worker with the 2-bit cache it serves by default, and back.
 */
class EmbeddedSpillwayTest {

    static Path model() {
        Path dir = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(dir.resolve("models/tiny-llama"))) {
            dir = dir.getParent();
        }
        return dir.resolve("models/tiny-llama");
    }

    @Test
    void aRequestOnTheEmbeddedBrokerIsAnswered(@TempDir Path data) {
        var options = new EmbeddedOptions(0, 0, 0, 0, 2, model(), "rotatekv2", data, "sk-test");
        try (EmbeddedSpillway spillway = EmbeddedSpillway.start(options)) {
            SpillwayAvroSerializer<InferenceRequest> serializer = new SpillwayAvroSerializer<>();
            serializer.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, spillway.registryUrl()), false);
            InferenceRequest r = InferenceRequest.newBuilder().setRequestId("r-1").setSessionId("s-1").setApiKeyId("k")
                    .setModel("tiny-llama").setReplyTopic(EmbeddedSpillway.EVENTS).setReplyPartition(1).setCreatedAtMs(0)
                    .setKind(RequestKind.COMPLETION).setMessages(List.of()).setPrompt("The whale")
                    .setSampling(SamplingOptions.newBuilder().setMaxTokens(6).setTemperature(0).setTopK(0).setTopP(1).setMinP(0)
                            .setRepetitionPenalty(1).build())
                    .setStream(true).build();
            try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, spillway.bootstrapServers()),
                    new StringSerializer(), serializer)) {
                producer.send(new ProducerRecord<>(EmbeddedSpillway.REQUESTS, "s-1", r));
            }
            SpillwayAvroDeserializer<InferenceEvent> d = new SpillwayAvroDeserializer<>(InferenceEvent.class);
            d.configure(Map.of(SpillwayAvroSerdeConfig.SCHEMA_REGISTRY_URL, spillway.registryUrl()), false);
            List<InferenceEvent> events = new ArrayList<>();
            try (var c = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, spillway.bootstrapServers()),
                    new StringDeserializer(), d)) {
                TopicPartition tp = new TopicPartition(EmbeddedSpillway.EVENTS, 1);
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (System.nanoTime() < deadline && events.stream().noneMatch(e -> e.getType() == EventType.FINISHED)) {
                    c.poll(Duration.ofMillis(200)).forEach(rec -> events.add(rec.value()));
                }
            }
            assertThat(events).last().satisfies(e -> {
                assertThat(e.getType()).isEqualTo(EventType.FINISHED);
                assertThat(e.getUsage().getCompletionTokens()).isEqualTo(6);
            });
        }
    }

    @Test
    void theOpenAiClientChatsThroughTheWholePath(@TempDir Path data) throws Exception {
        var options = new EmbeddedOptions(0, 0, 0, 0, 2, model(), "rotatekv2", data, "sk-test");
        try (EmbeddedSpillway spillway = EmbeddedSpillway.start(options)) {
            OpenAIClient client = OpenAIOkHttpClient.builder().apiKey("sk-test").baseUrl(spillway.apiUrl()).maxRetries(0).build();
            var params = ChatCompletionCreateParams.builder().model("tiny-llama").addUserMessage("Tell me about the whale.")
                    .maxCompletionTokens(12).temperature(0.0).build();
            ChatCompletion reply = client.chat().completions().create(params);
            String text = reply.choices().getFirst().message().content().orElseThrow();
            assertThat(text).isNotEmpty();
            assertThat(reply.usage().orElseThrow().completionTokens()).isBetween(1L, 12L);

            StringBuilder streamed = new StringBuilder();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(streamed::append)));
            }
            assertThat(streamed.toString()).as("greedy: the same answer streamed").isEqualTo(text);

            OpenAIClient wrongKey = OpenAIOkHttpClient.builder().apiKey("sk-wrong").baseUrl(spillway.apiUrl()).maxRetries(0).build();
            assertThatThrownBy(() -> wrongKey.chat().completions().create(params)).isInstanceOf(UnauthorizedException.class);

            // The spill service runs beside them and refuses callers without its token.
            var spill = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://localhost:" + spillway.spillPort() + "/v1/spills/demo")).build(),
                    java.net.http.HttpResponse.BodyHandlers.discarding());
            assertThat(spill.statusCode()).isEqualTo(401);
            // Its session directory follows spillway.sessions on the embedded broker.
            var directory = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://localhost:" + spillway.spillPort() + "/actuator/health/sessionDirectory")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertThat(directory.body()).contains("\"status\":\"UP\"");

            String tooLong = "whale ".repeat(3000);
            var oversized = ChatCompletionCreateParams.builder().model("tiny-llama").addUserMessage(tooLong).maxCompletionTokens(4).build();
            assertThatThrownBy(() -> client.chat().completions().create(oversized)).isInstanceOf(BadRequestException.class)
                    .hasMessageContaining("context");
        }
    }
}
