package io.spillway.embedded;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.context.ConfigurableApplicationContext;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The services against a real Kafka broker and a real Apicurio Registry (through its Confluent
 * compatible API) in containers. Skipped where no Docker engine runs (as on this project's CI);
 * images can be changed with {@code -Dspillway.test.kafka.image} and {@code -Dspillway.test.apicurio.image}.
 */
@Testcontainers(disabledWithoutDocker = true)
class ContainersSpillwayTest {
    @Container
    static final KafkaContainer KAFKA = new KafkaContainer(System.getProperty("spillway.test.kafka.image", "apache/kafka:4.1.1"));

    @Container
    static final GenericContainer<?> APICURIO = new GenericContainer<>(
            System.getProperty("spillway.test.apicurio.image", "apicurio/apicurio-registry:latest-release"))
            .withExposedPorts(8080).waitingFor(Wait.forHttp("/apis/ccompat/v7/subjects").forStatusCode(200));

    @Test
    void chatThroughRealKafkaAndApicurio(@TempDir Path data) throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBootstrapServers()))) {
            admin.createTopics(EmbeddedSpillway.topics(2)).all().get();
        }
        String registry = "http://" + APICURIO.getHost() + ":" + APICURIO.getMappedPort(8080) + "/apis/ccompat/v7";
        var options = new EmbeddedOptions(0, 0, 0, 0, 2, EmbeddedSpillwayTest.model(), "rotatekv2", data, "sk-test");
        List<ConfigurableApplicationContext> services = EmbeddedSpillway.startServices(options, KAFKA.getBootstrapServers(), registry);
        try {
            String api = "http://localhost:" + services.getLast().getEnvironment().getProperty("local.server.port") + "/v1";
            OpenAIClient client = OpenAIOkHttpClient.builder().apiKey("sk-test").baseUrl(api).maxRetries(0).build();
            var reply = client.chat().completions().create(ChatCompletionCreateParams.builder().model("tiny-llama")
                    .addUserMessage("Tell me about the whale.").maxCompletionTokens(8).build());
            assertThat(reply.choices().getFirst().message().content()).isPresent();
            assertThat(reply.usage().orElseThrow().completionTokens()).isBetween(1L, 8L);
        } finally {
            services.reversed().forEach(ConfigurableApplicationContext::close);
        }
    }
}
