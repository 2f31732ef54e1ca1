package io.spillway.worker;

import io.spillway.engine.chat.ChatMessage;
import io.spillway.engine.chat.ChatTemplate;
import io.spillway.engine.generate.GenerationRequest;
import io.spillway.engine.sampling.GenerationConfig;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.schemas.InferenceRequest;
import io.spillway.schemas.RequestKind;
import io.spillway.schemas.SamplingOptions;

import java.util.List;
import java.util.Optional;

/** Turns an {@link InferenceRequest} into the engine's prompt ids and sampling settings, or says why not. */
final class RequestTranslator {
    private final Tokenizer tokenizer;
    private final Optional<ChatTemplate> template;
    private final GenerationConfig generation;
    private final String modelName;
    private final int context;

    RequestTranslator(Tokenizer tokenizer, Optional<ChatTemplate> template, GenerationConfig generation, String modelName, int context) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.generation = generation;
        this.modelName = modelName;
        this.context = context;
    }

    GenerationRequest translate(InferenceRequest r) {
        if (!modelName.equals(r.getModel())) {
            throw new InvalidRequestException("model_not_found", "this worker serves '" + modelName + "', not '" + r.getModel() + "'");
        }
        int[] prompt = prompt(r);
        if (prompt.length >= context) {
            throw new InvalidRequestException("context_length_exceeded", "the prompt has " + prompt.length
                    + " tokens; the model's context is " + context + " tokens, leaving no room to generate");
        }
        try {
            return new GenerationRequest(prompt, sampling(r), java.util.Set.copyOf(generation.eosTokenIds()));
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("invalid_request", e.getMessage());
        }
    }

    private int[] prompt(InferenceRequest r) {
        if (r.getPromptTokenIds() != null) {
            int[] ids = r.getPromptTokenIds().stream().mapToInt(Integer::intValue).toArray();
            for (int id : ids) {
                if (id < 0 || id >= tokenizer.vocabSize()) {
                    throw new InvalidRequestException("invalid_request", "prompt token id " + id + " is outside the vocabulary");
                }
            }
            return ids;
        }
        if (r.getKind() == RequestKind.COMPLETION) {
            if (r.getPrompt() == null) {
                throw new InvalidRequestException("invalid_request", "a completion request needs a prompt");
            }
            return tokenizer.encode(r.getPrompt(), true);
        }
        if (r.getMessages().isEmpty()) {
            throw new InvalidRequestException("invalid_request", "a chat request needs at least one message");
        }
        ChatTemplate t = template.orElseThrow(() -> new InvalidRequestException("invalid_request",
                "model '" + modelName + "' has no chat template: use the completions endpoint"));
        List<ChatMessage> messages = r.getMessages().stream().map(m -> new ChatMessage(m.getRole(), m.getContent())).toList();
        try {
            return tokenizer.encode(t.render(messages, true), false);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("invalid_request", e.getMessage());
        }
    }

    /** The model's defaults, then the request's settings; a missing seed comes from the request id, so redelivery samples the same. */
    private SamplingParams sampling(InferenceRequest r) {
        SamplingOptions o = r.getSampling();
        long seed = o.getSeed() != null ? o.getSeed() : r.getRequestId().hashCode();
        return generation.applyTo(SamplingParams.greedy(o.getMaxTokens()))
                .withTemperature(o.getTemperature()).withTopK(o.getTopK()).withTopP(o.getTopP()).withMinP(o.getMinP())
                .withRepetitionPenalty(o.getRepetitionPenalty()).withSeed(seed).withStop(List.copyOf(o.getStop()));
    }
}
