package io.spillway.gateway.api;

import io.spillway.gateway.auth.ApiKey;
import io.spillway.gateway.config.SpillwayProperties;
import io.spillway.schemas.ChatMessage;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.RequestKind;
import io.spillway.schemas.SamplingOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.springframework.stereotype.Component;
import tools.jackson.databind.JsonNode;

/**
 * Checks an OpenAI request body the way OpenAI does (400 naming the parameter, 404 for an unknown
 * model) and turns it into the content of an {@code InferenceRequest}; the session is added by
 * the caller, the routing fields when it is sent.
 */
@Component
public final class InferenceRequests {

  private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
  private static final int MAX_STOP_SEQUENCES = 4;

  private final List<String> models;
  private final int maxPromptChars;
  private final int defaultMaxTokens;

  public InferenceRequests(SpillwayProperties properties) {
    this.models = List.copyOf(properties.gateway().models());
    this.maxPromptChars = properties.gateway().maxPromptChars();
    this.defaultMaxTokens = properties.gateway().defaultMaxTokens();
  }

  /** The models {@code GET /v1/models} lists and requests may name. */
  public List<String> models() {
    return models;
  }

  public InferenceRequest.Builder chat(ChatCompletionRequest body, ApiKey apiKey) {
    String model = model(body.model());
    if (body.messages() == null || body.messages().isEmpty()) {
      throw ApiException.invalidValue("messages", "'messages' must contain at least one message.");
    }
    if (Boolean.TRUE.equals(body.logprobs())) {
      throw ApiException.invalidValue("logprobs", "logprobs are not supported.");
    }
    if (body.tools() != null && !body.tools().isNull() && !body.tools().isEmpty()) {
      throw ApiException.invalidValue("tools", "tools (function calling) are not supported.");
    }
    List<ChatMessage> messages = new ArrayList<>();
    long chars = 0;
    for (int i = 0; i < body.messages().size(); i++) {
      ChatMessage message = message(body.messages().get(i), "messages[" + i + "]");
      chars += message.getContent().length();
      messages.add(message);
    }
    checkPromptLength(chars, "messages");
    return content(model, apiKey, body)
        .setKind(RequestKind.CHAT)
        .setMessages(messages)
        .setStream(Boolean.TRUE.equals(body.stream()));
  }

  public InferenceRequest.Builder completion(CompletionRequest body, ApiKey apiKey) {
    String model = model(body.model());
    if (Boolean.TRUE.equals(body.echo())) {
      throw ApiException.invalidValue("echo", "echo is not supported.");
    }
    if (body.logprobs() != null) {
      throw ApiException.invalidValue("logprobs", "logprobs are not supported.");
    }
    if (body.suffix() != null) {
      throw ApiException.invalidValue("suffix", "suffix is not supported.");
    }
    if (body.bestOf() != null && body.bestOf() != 1) {
      throw ApiException.invalidValue("best_of", "best_of must be 1.");
    }
    String prompt = prompt(body.prompt());
    checkPromptLength(prompt.length(), "prompt");
    return content(model, apiKey, body)
        .setKind(RequestKind.COMPLETION)
        .setMessages(List.of())
        .setPrompt(prompt)
        .setStream(Boolean.TRUE.equals(body.stream()));
  }

  private InferenceRequest.Builder content(String model, ApiKey apiKey, SamplingFields fields) {
    return InferenceRequest.newBuilder()
        .setApiKeyId(apiKey.id())
        .setModel(model)
        .setSampling(sampling(fields));
  }

  private String model(String model) {
    if (model == null || model.isBlank()) {
      throw ApiException.invalidValue("model", "You must provide a model parameter.");
    }
    if (!models.contains(model)) {
      throw ApiException.modelNotFound(model);
    }
    return model;
  }

  private static ChatMessage message(ChatCompletionRequest.Message message, String param) {
    if (message == null) {
      throw ApiException.invalidValue(param, "A message must be an object with a role and content.");
    }
    String role = message.role();
    if (role == null || !ROLES.contains(role)) {
      throw ApiException.invalidValue(
          param + ".role", "Invalid role '" + role + "': expected one of system, developer, user, assistant, tool.");
    }
    // Chat templates know "system"; "developer" is OpenAI's newer name for it.
    return new ChatMessage(role.equals("developer") ? "system" : role, text(message.content(), role, param + ".content"));
  }

  /** Message content: a string, or text parts joined; absent only for an assistant turn (tool calls). */
  private static String text(JsonNode content, String role, String param) {
    if (content == null || content.isNull()) {
      if (role.equals("assistant")) {
        return "";
      }
      throw ApiException.invalidValue(param, "Message content is required.");
    }
    if (content.isString()) {
      return content.stringValue();
    }
    if (content.isArray()) {
      StringBuilder text = new StringBuilder();
      for (JsonNode part : content) {
        if (!part.path("type").asString("").equals("text") || !part.path("text").isString()) {
          throw ApiException.invalidValue(param, "Only text content parts ({\"type\": \"text\", \"text\": ...}) are supported.");
        }
        text.append(part.path("text").stringValue());
      }
      return text.toString();
    }
    throw ApiException.invalidValue(param, "Message content must be a string or an array of text parts.");
  }

  private static String prompt(JsonNode prompt) {
    if (prompt != null && prompt.isString()) {
      return prompt.stringValue();
    }
    if (prompt != null && prompt.isArray() && prompt.size() == 1 && prompt.get(0).isString()) {
      return prompt.get(0).stringValue();
    }
    throw ApiException.invalidValue("prompt", "prompt must be a string (or an array holding one string).");
  }

  private void checkPromptLength(long chars, String param) {
    if (maxPromptChars > 0 && chars > maxPromptChars) {
      throw ApiException.contextLengthExceeded(
          param, "The prompt has " + chars + " characters; this gateway accepts at most " + maxPromptChars + ".");
    }
  }

  private SamplingOptions sampling(SamplingFields fields) {
    double temperature = fields.temperature() == null ? 1.0 : fields.temperature();
    if (!(temperature >= 0 && temperature <= 2)) {
      throw ApiException.invalidValue("temperature", "temperature must be between 0 and 2, got " + temperature + ".");
    }
    double topP = fields.topP() == null ? 1.0 : fields.topP();
    if (!(topP > 0 && topP <= 1)) {
      throw ApiException.invalidValue("top_p", "top_p must be greater than 0 and at most 1, got " + topP + ".");
    }
    int maxTokens = fields.requestedMaxTokens() == null ? defaultMaxTokens : fields.requestedMaxTokens();
    if (maxTokens < 1) {
      throw ApiException.invalidValue(fields.maxTokensParam(), fields.maxTokensParam() + " must be at least 1, got " + maxTokens + ".");
    }
    if (fields.n() != null && fields.n() != 1) {
      throw ApiException.invalidValue("n", "n must be 1: one choice per request.");
    }
    int topK = fields.topK() == null ? 0 : fields.topK();
    if (topK < 0) {
      throw ApiException.invalidValue("top_k", "top_k must be 0 (off) or more, got " + topK + ".");
    }
    double minP = fields.minP() == null ? 0 : fields.minP();
    if (!(minP >= 0 && minP <= 1)) {
      throw ApiException.invalidValue("min_p", "min_p must be between 0 and 1, got " + minP + ".");
    }
    double repetitionPenalty = fields.repetitionPenalty() == null ? 1.0 : fields.repetitionPenalty();
    if (!(repetitionPenalty > 0)) {
      throw ApiException.invalidValue(
          "repetition_penalty", "repetition_penalty must be greater than 0, got " + repetitionPenalty + ".");
    }
    return SamplingOptions.newBuilder()
        .setTemperature(temperature)
        .setTopP(topP)
        .setMaxTokens(maxTokens)
        .setTopK(topK)
        .setMinP(minP)
        .setRepetitionPenalty(repetitionPenalty)
        .setSeed(fields.seed())
        .setStop(stop(fields.stop()))
        .build();
  }

  private static List<String> stop(JsonNode stop) {
    if (stop == null || stop.isNull()) {
      return List.of();
    }
    if (stop.isString()) {
      return List.of(stop.stringValue());
    }
    if (stop.isArray() && stop.size() <= MAX_STOP_SEQUENCES && stop.values().stream().allMatch(JsonNode::isString)) {
      return stop.values().stream().map(JsonNode::stringValue).toList();
    }
    throw ApiException.invalidValue("stop", "stop must be a string or an array of at most " + MAX_STOP_SEQUENCES + " strings.");
  }
}
