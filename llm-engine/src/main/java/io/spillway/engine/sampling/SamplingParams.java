package io.spillway.engine.sampling;

import java.util.List;
import java.util.Objects;

/**
 * How one sequence picks its tokens, with the meaning HF transformers and vLLM give these knobs.
 * A filter at its neutral value is off: {@code topK == 0}, {@code topP == 1}, {@code minP == 0},
 * {@code repetitionPenalty == 1}. {@code temperature == 0} means greedy decoding (argmax after the
 * repetition penalty; the other filters and the seed do not matter then), and so does any
 * temperature below {@value #GREEDY_BELOW}, as in vLLM: dividing by it would overflow.
 *
 * @param temperature       logits are divided by it before sampling; 0 for greedy
 * @param topK              keep the {@code topK} most likely tokens (and ties with the last); 0 for all
 * @param topP              keep the smallest set of most likely tokens whose probability reaches it
 * @param minP              drop tokens less likely than {@code minP} times the most likely one
 * @param repetitionPenalty logits of tokens already in the sequence are divided by it when positive,
 *                          multiplied when negative
 * @param seed              seeds the sequence's random generator: equal parameters and logits give
 *                          equal samples, so give each request its own seed for independent samples
 * @param maxTokens         the most tokens to generate
 * @param stop              strings that end the generation; they are not part of the output
 */
public record SamplingParams(
        double temperature,
        int topK,
        double topP,
        double minP,
        double repetitionPenalty,
        long seed,
        int maxTokens,
        List<String> stop) {

    /** Temperatures below this one decode greedily. */
    public static final double GREEDY_BELOW = 1e-5;

    public SamplingParams {
        check(temperature >= 0 && Double.isFinite(temperature), "temperature must be >= 0 (0 for greedy)", temperature);
        check(topK >= 0, "topK must be >= 0 (0 to disable)", topK);
        check(topP > 0 && topP <= 1, "topP must be in (0, 1] (1 to disable)", topP);
        check(minP >= 0 && minP <= 1, "minP must be in [0, 1] (0 to disable)", minP);
        check(repetitionPenalty > 0 && Double.isFinite(repetitionPenalty),
                "repetitionPenalty must be > 0 (1 to disable)", repetitionPenalty);
        check(maxTokens >= 1, "maxTokens must be >= 1", maxTokens);
        stop = List.copyOf(Objects.requireNonNull(stop, "stop"));
        for (String s : stop) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty");
            }
        }
    }

    /** Sampling from the model's distribution as it is: temperature 1, no filters, seed 0. */
    public static SamplingParams sample(int maxTokens) {
        return new SamplingParams(1.0, 0, 1.0, 0.0, 1.0, 0L, maxTokens, List.of());
    }

    /** Greedy decoding of up to {@code maxTokens} tokens. */
    public static SamplingParams greedy(int maxTokens) {
        return sample(maxTokens).withTemperature(0);
    }

    public boolean isGreedy() {
        return temperature < GREEDY_BELOW;
    }

    /** Whether drawing a token needs the sequence's history (a repetition penalty): only the host sampler has it. */
    public boolean usesHistory() {
        return repetitionPenalty != 1;
    }

    public SamplingParams withTemperature(double temperature) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withTopK(int topK) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withTopP(double topP) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withMinP(double minP) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withRepetitionPenalty(double repetitionPenalty) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withSeed(long seed) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withMaxTokens(int maxTokens) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    public SamplingParams withStop(List<String> stop) {
        return new SamplingParams(temperature, topK, topP, minP, repetitionPenalty, seed, maxTokens, stop);
    }

    private static void check(boolean valid, String rule, Object value) {
        if (!valid) {
            throw new IllegalArgumentException(rule + ", got " + value);
        }
    }
}
