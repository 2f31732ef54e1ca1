package io.spillway.engine.chat;

import static io.spillway.engine.chat.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spillway.engine.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateLoadTest {

    private static final String TEMPLATE = "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}"
            + "{% if add_generation_prompt %}[assistant]{% endif %}";

    @TempDir
    Path dir;

    private void tokenizerConfig(Map<String, ?> fields) throws IOException {
        new ObjectMapper().writeValue(dir.resolve("tokenizer_config.json").toFile(), fields);
    }

    private String renderHi() {
        return ChatTemplate.load(dir).orElseThrow().render(List.of(user("hi")), true);
    }

    @Test
    void stringChatTemplateInTokenizerConfig() throws IOException {
        tokenizerConfig(Map.of("chat_template", TEMPLATE, "bos_token", "<s>", "eos_token", "</s>"));

        assertThat(renderHi()).isEqualTo("<s>[user]hi[assistant]");
    }

    @Test
    void listFormTakesTheDefaultTemplate() throws IOException {
        tokenizerConfig(Map.of("bos_token", "<s>", "chat_template", List.of(
                Map.of("name", "tool_use", "template", "TOOLS"),
                Map.of("name", "default", "template", TEMPLATE),
                Map.of("name", "rag", "template", "RAG"))));

        assertThat(renderHi()).isEqualTo("<s>[user]hi[assistant]");
    }

    @Test
    void addedTokenObjectsGiveTheirContent() throws IOException {
        tokenizerConfig(Map.of("chat_template", "{{ bos_token }}|{{ eos_token }}",
                "bos_token", Map.of("__type", "AddedToken", "content", "<s>", "lstrip", false, "normalized", true),
                "eos_token", Map.of("__type", "AddedToken", "content", "</s>", "rstrip", false)));

        ChatTemplate template = ChatTemplate.load(dir).orElseThrow();

        assertThat(template.render(List.of(user("hi")), true)).isEqualTo("<s>|</s>");
        assertThat(template.bosToken()).isEqualTo("<s>");
        assertThat(template.eosToken()).isEqualTo("</s>");
    }

    @Test
    void missingOrNullSpecialTokensAreEmpty() throws IOException {
        Map<String, Object> fields = new HashMap<>(Map.of("chat_template", TEMPLATE));
        fields.put("bos_token", null);
        tokenizerConfig(fields);

        assertThat(renderHi()).isEqualTo("[user]hi[assistant]");
        assertThat(ChatTemplate.load(dir).orElseThrow().withSpecialTokens("<bos>", "").render(List.of(user("hi")), false))
                .isEqualTo("<bos>[user]hi");
    }

    @Test
    void jinjaFileWinsOverTokenizerConfig() throws IOException {
        tokenizerConfig(Map.of("chat_template", "OLD", "bos_token", "<s>"));
        Files.writeString(dir.resolve("chat_template.jinja"), TEMPLATE + "\n");

        assertThat(renderHi()).isEqualTo("<s>[user]hi[assistant]");
    }

    @Test
    void jinjaFileWithoutTokenizerConfig() throws IOException {
        Files.writeString(dir.resolve("chat_template.jinja"), TEMPLATE);

        assertThat(renderHi()).isEqualTo("[user]hi[assistant]");
    }

    @Test
    void noTemplateIsEmpty() throws IOException {
        assertThat(ChatTemplate.load(dir)).isEmpty();
        tokenizerConfig(Map.of("bos_token", "<s>"));
        assertThat(ChatTemplate.load(dir)).isEmpty();
    }

    @Test
    void listWithoutDefaultNamesFileAndField() throws IOException {
        tokenizerConfig(Map.of("chat_template", List.of(Map.of("name", "tool_use", "template", "T"))));

        assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer_config.json")
                .hasMessageContaining("field 'chat_template'")
                .hasMessageContaining("no template named 'default'");
    }

    @Test
    void wrongTypesNameFileAndField() throws IOException {
        tokenizerConfig(Map.of("chat_template", 42));
        assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer_config.json: field 'chat_template'");

        tokenizerConfig(Map.of("chat_template", TEMPLATE, "bos_token", List.of("<s>")));
        assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer_config.json: field 'bos_token'");
    }

    @Test
    void malformedJsonNamesTheFile() throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"x\",");

        assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tokenizer_config.json: malformed JSON");
    }

    @Test
    void syntaxErrorsNameTheTemplateSource() throws IOException {
        Files.writeString(dir.resolve("chat_template.jinja"), "{% for m in messages %}\n{{ m.content + }}\n{% endfor %}\n");
        assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOf(CheckpointException.class)
                // Jinjava's trim_blocks hides the newline after the for tag from its line count.
                .hasMessageStartingWith(dir.resolve("chat_template.jinja") + ": lines 1-2: ")
                .hasMessageContaining("m.content +");

        Files.delete(dir.resolve("chat_template.jinja"));
        tokenizerConfig(Map.of("chat_template", "{% if messages %}unclosed"));
        assertThatThrownBy(() -> ChatTemplate.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(dir.resolve("tokenizer_config.json") + ": field 'chat_template': line 1: ")
                .hasMessageContaining("endif");
    }

    @Test
    void escapedNewlinesOfJsonTemplatesBecomeNewlines() throws IOException {
        // Qwen2.5 style: the JSON holds '\\n', so the template has the Python escape \n in a literal.
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for m in messages %}{{ '<|im_start|>' + m.role + '\\\\n' + m.content"
                        + " + '<|im_end|>\\\\n' }}{% endfor %}\"}");

        assertThat(renderHi()).isEqualTo("<|im_start|>user\nhi<|im_end|>\n");
    }
}
