package io.spillway.engine.generate;

import io.spillway.engine.sampling.SamplingParams;

import java.util.Set;

/**
 * What to generate: prompt token ids (special tokens included), how to sample, and which ids end
 * the sequence (the model's EOS ids from generation_config.json).
 */
public record GenerationRequest(int[] prompt, SamplingParams params, Set<Integer> eosIds) {
    public GenerationRequest {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: it needs at least one token");
        }
        prompt = prompt.clone();
        eosIds = Set.copyOf(eosIds);
    }
}
