package io.spillway.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK, pointed at the gateway, gets what it gets from OpenAI. */
class ChatCompletionsSdkTest extends GatewayTest {

  private OpenAIClient client;

  @BeforeEach
  void client() {
    client = OpenAIOkHttpClient.builder().apiKey(ALICE).baseUrl(baseUrl()).maxRetries(0).build();
  }

  private static ChatCompletionCreateParams.Builder hello() {
    return ChatCompletionCreateParams.builder().model("tiny-llama").addUserMessage("Say hello").maxCompletionTokens(16);
  }

  @Test
  void chatCompletion() {
    ChatCompletion completion = client.chat().completions().create(hello().build());

    assertThat(completion.id()).startsWith("chatcmpl-");
    assertThat(completion.model()).isEqualTo("tiny-llama");
    assertThat(completion.choices()).hasSize(1);
    ChatCompletion.Choice choice = completion.choices().getFirst();
    assertThat(choice.message().content()).contains("Hello, world!");
    assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    CompletionUsage usage = completion.usage().orElseThrow();
    assertThat(usage.promptTokens()).isEqualTo(7);
    assertThat(usage.completionTokens()).isEqualTo(4);
    assertThat(usage.totalTokens()).isEqualTo(11);
  }

  @Test
  void streamedChatCompletion() {
    // The empty delta is what a worker holding back half a UTF-8 character sends: it adds no chunk.
    worker.answer(
        request ->
            new Script().started().delta("Once").delta(" upon").delta("").delta(" a").delta(" time").finished("length", 9, 4));
    ChatCompletionCreateParams params =
        hello().streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();

    List<ChatCompletionChunk> chunks = new ArrayList<>();
    try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
      stream.stream().forEach(chunks::add);
    }

    StringBuilder text = new StringBuilder();
    List<ChatCompletionChunk.Choice.FinishReason> finishReasons = new ArrayList<>();
    for (ChatCompletionChunk chunk : chunks) {
      chunk.choices().forEach(c -> c.delta().content().ifPresent(text::append));
      chunk.choices().forEach(c -> c.finishReason().ifPresent(finishReasons::add));
    }
    assertThat(text.toString()).isEqualTo("Once upon a time");
    assertThat(finishReasons).containsExactly(ChatCompletionChunk.Choice.FinishReason.LENGTH);
    assertThat(chunks.getFirst().choices().getFirst().delta().role()).contains(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT);
    assertThat(chunks).allSatisfy(c -> assertThat(c.id()).isEqualTo(chunks.getFirst().id()));
    CompletionUsage usage = chunks.getLast().usage().orElseThrow();
    assertThat(chunks.getLast().choices()).isEmpty();
    assertThat(usage.promptTokens()).isEqualTo(9);
    assertThat(usage.completionTokens()).isEqualTo(4);
  }

  @Test
  void textCompletion() {
    worker.answer(request -> Script.text(" Ishmael."));

    Completion completion =
        client.completions().create(
            CompletionCreateParams.builder().model("tiny-llama").prompt("Call me").maxTokens(8).build());

    assertThat(completion.id()).startsWith("cmpl-");
    assertThat(completion.choices()).hasSize(1);
    assertThat(completion.choices().getFirst().text()).isEqualTo(" Ishmael.");
    assertThat(completion.choices().getFirst().finishReason().asString()).isEqualTo("stop");
    assertThat(completion.usage().orElseThrow().totalTokens()).isEqualTo(8);
    assertThat(worker.received().getLast().getPrompt()).isEqualTo("Call me");
  }

  @Test
  void models() {
    List<Model> models = client.models().list().data();

    assertThat(models).extracting(Model::id).containsExactly("tiny-llama", "other-model");
    assertThat(models).allSatisfy(m -> assertThat(m.ownedBy()).isEqualTo("spillway"));
  }
}
