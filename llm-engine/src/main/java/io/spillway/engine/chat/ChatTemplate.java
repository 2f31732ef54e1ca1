package io.spillway.engine.chat;

import io.spillway.engine.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * A model's Hugging Face chat template, which turns a conversation into the prompt text the model
 * was trained on. Rendered by Jinjava configured to behave like the Jinja2 environment of
 * transformers (see {@link JinjaEnvironment}); Python escapes in string literals and a trailing
 * newline are handled as Jinja2 does (see {@link TemplateSource}).
 *
 * <p>Templates see {@code messages} (each with {@code role} and {@code content}, readable as
 * {@code m['content']} and {@code m.content}), {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token}, and {@code tools} and {@code documents} as none. Instances are immutable and
 * thread-safe.
 */
public final class ChatTemplate {

    static final String JINJA_FILE = "chat_template.jinja";

    /** A conversation that visits the branches most templates have, for checking them once. */
    private static final List<ChatMessage> SAMPLE = List.of(
            ChatMessage.system("You are helpful."), ChatMessage.user("Hello"),
            ChatMessage.assistant("Hi!"), ChatMessage.user("Bye"));

    private final String template;
    private final TemplateSource source;
    private final String origin;
    private final String bosToken;
    private final String eosToken;

    private ChatTemplate(String template, TemplateSource source, String origin, String bosToken, String eosToken) {
        this.template = template;
        this.source = source;
        this.origin = origin;
        this.bosToken = Objects.requireNonNull(bosToken, "bosToken");
        this.eosToken = Objects.requireNonNull(eosToken, "eosToken");
    }

    /**
     * The template of the model in {@code modelDir}: {@code chat_template.jinja} if present, else
     * {@code chat_template} of {@code tokenizer_config.json} (a string, or a list of
     * {@code {name, template}} objects of which the one named "default" is taken). The special tokens
     * come from {@code tokenizer_config.json}, "" where it has none.
     *
     * @return empty when the model has no chat template
     * @throws CheckpointException when a file cannot be read or parsed, or the template has a syntax error
     */
    public static Optional<ChatTemplate> load(Path modelDir) {
        TokenizerConfig config = TokenizerConfig.read(modelDir);
        Path jinja = modelDir.resolve(JINJA_FILE);
        if (Files.exists(jinja)) {
            String text;
            try {
                text = Files.readString(jinja);
            } catch (IOException e) {
                throw new CheckpointException(jinja, "cannot read: " + e.getMessage(), e);
            }
            return Optional.of(create(text, jinja.toString(), config.bosToken(), config.eosToken(),
                    error -> new CheckpointException(jinja, error)));
        }
        Path json = modelDir.resolve(TokenizerConfig.FILE);
        return config.chatTemplate().map(text -> create(text, json + " (chat_template)",
                config.bosToken(), config.eosToken(),
                error -> new CheckpointException(json, "chat_template", error)));
    }

    /**
     * A template given as text, for models whose files lack one or name their special tokens elsewhere.
     *
     * @throws IllegalArgumentException when the template has a syntax error
     */
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return create(template, "(inline)", bosToken, eosToken,
                error -> new IllegalArgumentException("chat template: " + error));
    }

    private static ChatTemplate create(String template, String origin, String bosToken, String eosToken,
                                       Function<String, RuntimeException> syntaxError) {
        ChatTemplate chat = new ChatTemplate(template, TemplateSource.of(template), origin, bosToken, eosToken);
        JinjaEnvironment.INSTANCE.syntaxError(chat.source, chat.bindings(SAMPLE, true, Map.of()))
                .ifPresent(error -> {
                    throw syntaxError.apply(error);
                });
        return chat;
    }

    /** This template with other special tokens, e.g. a {@code bos_token} the tokenizer config lacks. */
    public ChatTemplate withSpecialTokens(String bosToken, String eosToken) {
        return new ChatTemplate(template, source, origin, bosToken, eosToken);
    }

    /**
     * Renders {@code messages}; with {@code addGenerationPrompt}, ends with the header that makes the
     * model answer as the assistant.
     *
     * @throws IllegalArgumentException with the template's message when it rejects the conversation
     *                                  through {@code raise_exception} (e.g. roles that do not alternate)
     * @throws IllegalStateException    when the template uses something this renderer does not support
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders with extra template variables, as transformers' {@code apply_chat_template(**kwargs)}
     * passes them (e.g. {@code enable_thinking}); they may replace {@code bos_token},
     * {@code eos_token}, {@code tools} and {@code documents}, not the messages.
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        return JinjaEnvironment.INSTANCE.render(source, origin, bindings(messages, addGenerationPrompt, variables));
    }

    private Map<String, Object> bindings(List<ChatMessage> messages, boolean addGenerationPrompt,
                                         Map<String, ?> variables) {
        Map<String, Object> bindings = new HashMap<>();
        bindings.put("bos_token", bosToken);
        bindings.put("eos_token", eosToken);
        bindings.put("tools", null);
        bindings.put("documents", null);
        bindings.putAll(variables);
        // Maps rather than records: templates read both m['content'] and m.content.
        bindings.put("messages", messages.stream().map(ChatTemplate::asMap).toList());
        bindings.put("add_generation_prompt", addGenerationPrompt);
        return bindings;
    }

    private static Map<String, Object> asMap(ChatMessage message) {
        Map<String, Object> map = new LinkedHashMap<>();
        map.put("role", message.role());
        map.put("content", message.content());
        return map;
    }

    /** The template text as the model gives it. */
    public String template() {
        return template;
    }

    public String bosToken() {
        return bosToken;
    }

    public String eosToken() {
        return eosToken;
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + origin + "]";
    }
}
