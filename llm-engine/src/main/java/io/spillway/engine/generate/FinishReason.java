package io.spillway.engine.generate;

/** Why a generation ended; names as OpenAI's API reports them. */
public enum FinishReason {
    /** An end-of-sequence token or a stop string. */
    STOP,
    /** The token limit or the model's context. */
    LENGTH,
    /** The caller cancelled it. */
    CANCELLED;

    public String apiName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
