package io.spillway.engine.runtime;

import io.spillway.engine.sampling.SamplingParams;

import java.util.List;

/**
 * A decoder that also draws the next tokens where the logits are (the GPU), so only one id per sequence
 * comes back. Filters and their order are the host {@link io.spillway.engine.sampling.Sampler}'s; the
 * caller supplies each draw's uniform number from the sequence's own generator, so a seed still fixes
 * the tokens.
 */
public interface SamplingDecoder extends Decoder {

    /**
     * Runs {@code steps} like {@link #forward} and returns, per step, the token drawn from its last position's
     * logits with {@code params.get(i)} and {@code uniforms[i]} in [0, 1) (unused when greedy).
     *
     * @throws IllegalArgumentException when a step asks for all logits, the lists' sizes differ, a uniform is
     *                                  outside [0, 1), or a step has a repetition penalty (it needs the history:
     *                                  sample those on the host from {@link #forward}'s logits)
     */
    int[] forwardSampled(List<LlamaModel.Step> steps, List<SamplingParams> params, double[] uniforms);
}
