package io.spillway.engine.sampling;

/** Why a sequence ended, as OpenAI-style APIs report it ({@code finish_reason}). */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP,
    /** {@link SamplingParams#maxTokens()} reached, or the context is full. */
    LENGTH
}
