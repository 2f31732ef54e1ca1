package io.spillway.engine.chat;

import static io.spillway.engine.chat.ChatMessage.assistant;
import static io.spillway.engine.chat.ChatMessage.system;
import static io.spillway.engine.chat.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {

    static final Path TINY_LLAMA = Path.of("..", "models", "tiny-llama");

    /** Meta-Llama-3-8B-Instruct's template, as its tokenizer_config.json has it (JSON \n decoded). */
    static final String LLAMA3 = """
            {% set loop_messages = messages %}{% for message in loop_messages %}{% set content = \
            '<|start_header_id|>' + message['role'] + '<|end_header_id|>

            '+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = \
            bos_token + content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}\
            {{ '<|start_header_id|>assistant<|end_header_id|>

            ' }}{% endif %}""";

    /** Qwen2-Instruct's ChatML template: a default system prompt unless the conversation has one. */
    static final String CHATML = """
            {% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}\
            {{ '<|im_start|>system
            You are a helpful assistant.<|im_end|>
            ' }}{% endif %}{{'<|im_start|>' + message['role'] + '
            ' + message['content'] + '<|im_end|>' + '
            '}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant
            ' }}{% endif %}""";

    /** Mistral-Instruct-v0.1's template: rejects conversations whose roles do not alternate. */
    static final String ALTERNATING = """
            {{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != \
            (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate \
            user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}\
            {{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}\
            {{ message['content'] + eos_token + ' ' }}{% else %}{{ raise_exception('Only user and \
            assistant roles are supported!') }}{% endif %}{% endfor %}""";

    @Test
    void tinyLlamaRendersTheLlama3Prompt() {
        ChatTemplate template = ChatTemplate.load(TINY_LLAMA).orElseThrow();

        assertThat(template.render(List.of(user("Hello")), true)).isEqualTo(
                "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                        + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(template.bosToken()).isEqualTo("<|begin_of_text|>");
        assertThat(template.eosToken()).isEqualTo("<|end_of_text|>");
    }

    @Test
    void tinyLlamaMultiTurnWithoutGenerationPrompt() {
        ChatTemplate template = ChatTemplate.load(TINY_LLAMA).orElseThrow();

        String prompt = template.render(List.of(system("Be brief."), user("Hi"), assistant("Hello."), user("Bye")), false);

        assertThat(prompt).isEqualTo("<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>");
    }

    @Test
    void llama3TemplateTrimsContentAndPutsBosOnTheFirstMessageOnly() {
        ChatTemplate template = ChatTemplate.of(LLAMA3, "<|begin_of_text|>", "<|eot_id|>");

        String prompt = template.render(List.of(system(" You are a bot. \n"), user("\tHi"), assistant("Hello!"), user("Bye")), true);

        assertThat(prompt).isEqualTo("<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\nYou are a bot.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nBye<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void llama3TemplateWithPythonEscapesAndStrip() {
        // The same template as a .jinja file written with Python escapes and .strip().
        String escaped = "{% for message in messages %}{% set content = '<|start_header_id|>' + message['role']"
                + " + '<|end_header_id|>\\n\\n' + message['content'].strip() + '<|eot_id|>' %}"
                + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}\n";
        List<ChatMessage> chat = List.of(system(" You are a bot. \n"), user("\tHi"));

        assertThat(ChatTemplate.of(escaped, "<|begin_of_text|>", "").render(chat, true))
                .isEqualTo(ChatTemplate.of(LLAMA3, "<|begin_of_text|>", "").render(chat, true));
    }

    @Test
    void chatMlAddsTheDefaultSystemMessageOnlyWhenThereIsNone() {
        ChatTemplate template = ChatTemplate.of(CHATML, "", "<|im_end|>");

        assertThat(template.render(List.of(user("Hi")), true)).isEqualTo("""
                <|im_start|>system
                You are a helpful assistant.<|im_end|>
                <|im_start|>user
                Hi<|im_end|>
                <|im_start|>assistant
                """);
        assertThat(template.render(List.of(system("Talk like a pirate."), user("Hi"), assistant("Arr.")), false)).isEqualTo("""
                <|im_start|>system
                Talk like a pirate.<|im_end|>
                <|im_start|>user
                Hi<|im_end|>
                <|im_start|>assistant
                Arr.<|im_end|>
                """);
    }

    @Test
    void raiseExceptionRejectsTheConversationWithTheTemplatesMessage() {
        ChatTemplate template = ChatTemplate.of(ALTERNATING, "<s>", "</s>");

        assertThat(template.render(List.of(user("a"), assistant("b"), user("c")), true))
                .isEqualTo("<s>[INST] a [/INST]b</s> [INST] c [/INST]");
        assertThatThrownBy(() -> template.render(List.of(user("a"), user("b")), true))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("Conversation roles must alternate user/assistant/user/assistant/...");
        assertThatThrownBy(() -> template.render(List.of(user("a"), system("b")), true))
                .isExactlyInstanceOf(IllegalArgumentException.class)
                .hasMessage("Only user and assistant roles are supported!");
    }

    @Test
    void messagesReadAsMapsAndAsObjects() {
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}{{ m['role'] }}={{ m.content }};{% endfor %}"
                + "{{ messages[-1].role }}|{{ messages | length }}", "", "");

        assertThat(template.render(List.of(user("a"), assistant("b")), false)).isEqualTo("user=a;assistant=b;assistant|2");
    }

    @Test
    void blockTagsOnTheirOwnLinesLeaveNoWhitespace() {
        ChatTemplate template = ChatTemplate.of("""
                {% for message in messages %}
                    {% if message.role == 'user' %}
                U: {{ message.content }}
                    {% endif %}
                {% endfor %}
                """, "", "");

        assertThat(template.render(List.of(user("a"), assistant("x"), user("b")), false)).isEqualTo("U: a\nU: b\n");
    }

    @Test
    void onlyTheTemplatesTrailingNewlineIsDropped() {
        ChatTemplate template = ChatTemplate.of("{{ messages[0].content }}\n", "", "");

        assertThat(template.render(List.of(user("x\n")), false)).isEqualTo("x\n");
    }

    @Test
    void messageTextIsNeverRenderedAsATemplate() {
        ChatTemplate template = ChatTemplate.of("{{ messages[0].content }}", "", "");
        String content = "{{ 7 * 7 }}{% if true %}x{% endif %}{{ raise_exception('no') }}";

        assertThat(template.render(List.of(user(content)), false)).isEqualTo(content);
    }

    @Test
    void extraVariablesReachTheTemplate() {
        ChatTemplate template = ChatTemplate.of("{{ messages[0].content }}{% if enable_thinking is defined"
                + " and enable_thinking is false %}<think></think>{% endif %}", "", "");

        assertThat(template.render(List.of(user("q")), true, Map.of("enable_thinking", false))).isEqualTo("q<think></think>");
        assertThat(template.render(List.of(user("q")), true)).isEqualTo("q");
    }

    @Test
    void toolsAndDocumentsAreNone() {
        ChatTemplate template = ChatTemplate.of("{{ tools is none }}{% if tools %}T{% endif %}{{ documents is none }}", "", "");

        assertThat(template.render(List.of(user("q")), true)).isEqualTo("truetrue");
    }

    @Test
    void namespacesCarryStateOutOfLoops() {
        ChatTemplate template = ChatTemplate.of("{% set ns = namespace(last_user=-1) %}{% for m in messages %}"
                + "{% if m.role == 'user' %}{% set ns.last_user = loop.index0 %}{% endif %}{% endfor %}{{ ns.last_user }}", "", "");

        assertThat(template.render(List.of(user("a"), assistant("b"), user("c"), assistant("d")), false)).isEqualTo("2");
    }

    @Test
    void withSpecialTokensSuppliesTheTokensTheConfigLacks() {
        ChatTemplate template = ChatTemplate.of("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}", "", "")
                .withSpecialTokens("<s>", "</s>");

        assertThat(template.render(List.of(user("x")), false)).isEqualTo("<s>x</s>");
    }

    @Test
    void generationTagOutputsItsBody() {
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}{% if m.role == 'assistant' %}"
                + "{% generation %}{{ m.content }}!{% endgeneration %}{% else %}{{ m.content }}{% endif %}{% endfor %}", "", "");

        assertThat(template.render(List.of(user("a"), assistant("b")), false)).isEqualTo("ab!");
    }

    @Test
    void strftimeNowFormatsTheCurrentDate() {
        ChatTemplate template = ChatTemplate.of("Today Date: {{ strftime_now('%d %b %Y') }}", "", "");

        assertThat(template.render(List.of(user("q")), true)).matches("Today Date: \\d{2} [A-Z][a-z]{2} \\d{4}");
    }

    @Test
    void rendersConcurrently() throws Exception {
        ChatTemplate template = ChatTemplate.of(LLAMA3, "<|begin_of_text|>", "<|eot_id|>");
        try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    for (int i = 0; i < 100; i++) {
                        String text = "message " + i + " of " + Thread.currentThread().getName();
                        String expected = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n" + text + "<|eot_id|>";
                        if (!template.render(List.of(user(text)), false).equals(expected)) {
                            return false;
                        }
                    }
                    return true;
                }));
            }
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        }
    }

    @Test
    void loopControlsWork() {
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}{% if m.role == 'system' %}{% continue %}{% endif %}"
                + "{{ m.content }}{% if loop.index0 == 2 %}{% break %}{% endif %}{% endfor %}", "", "");

        assertThat(template.render(List.of(system("s"), user("a"), assistant("b"), user("c")), false)).isEqualTo("ab");
    }
}
