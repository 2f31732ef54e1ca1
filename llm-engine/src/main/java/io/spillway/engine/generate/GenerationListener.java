package io.spillway.engine.generate;

/** Receives one generation's output on the engine thread: keep the work done here small. */
public interface GenerationListener {

    /**
     * The generation entered the batch: its prompt runs from the next forward pass. Called once, before any
     * {@link #onToken}; not at all for one cancelled while it waited.
     */
    default void onStart() {
    }

    /**
     * A sampled token and the text it completed; {@code text} may be empty while a UTF-8 character or
     * a possible stop string is still incomplete. Text held back to the end comes with token id -1.
     */
    void onToken(int tokenId, String text);

    /** The end: called exactly once, after the last {@link #onToken}, unless {@link #onFailure} ends it instead. */
    void onFinish(FinishReason reason, Usage usage);

    /**
     * The end of a generation the engine could not run on (its forward pass threw: a device error, memory
     * running out): called instead of {@link #onFinish}, exactly once. Tokens sent before it stand.
     */
    void onFailure(RuntimeException cause);

    /**
     * Token counts of a finished generation; {@code cachedTokens} of the prompt came from the
     * session's cache and were not run again (OpenAI's {@code prompt_tokens_details.cached_tokens}).
     */
    record Usage(int promptTokens, int completionTokens, int cachedTokens) {
    }
}
