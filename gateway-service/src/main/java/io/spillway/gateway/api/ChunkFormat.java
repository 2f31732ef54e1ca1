package io.spillway.gateway.api;

/** How one API shapes its SSE chunks: chat ({@code chat.completion.chunk}) or text ({@code text_completion}). */
interface ChunkFormat {

  /** The chunk that opens the stream, or null if the API has none. */
  Object start();

  Object delta(String text);

  Object finish(String finishReason);

  /** The chunk after the last one, for {@code stream_options.include_usage}. */
  Object usage(Usage usage);

  record Chat(String id, long created, String model) implements ChunkFormat {

    /** OpenAI opens with the role and empty content; clients take the role from it. */
    @Override
    public Object start() {
      return chunk(new ChatCompletionChunk.Delta("assistant", ""), null);
    }

    @Override
    public Object delta(String text) {
      return chunk(new ChatCompletionChunk.Delta(null, text), null);
    }

    @Override
    public Object finish(String finishReason) {
      return chunk(new ChatCompletionChunk.Delta(null, null), finishReason);
    }

    @Override
    public Object usage(Usage usage) {
      return ChatCompletionChunk.usage(id, created, model, usage);
    }

    private ChatCompletionChunk chunk(ChatCompletionChunk.Delta delta, String finishReason) {
      return new ChatCompletionChunk(id, created, model, new ChatCompletionChunk.Choice(0, delta, null, finishReason));
    }
  }

  record Text(String id, long created, String model) implements ChunkFormat {

    @Override
    public Object start() {
      return null;
    }

    @Override
    public Object delta(String text) {
      return new TextCompletion(id, created, model, new TextCompletion.Choice(text, 0, null, null), null);
    }

    @Override
    public Object finish(String finishReason) {
      return new TextCompletion(id, created, model, new TextCompletion.Choice("", 0, null, finishReason), null);
    }

    @Override
    public Object usage(Usage usage) {
      return TextCompletion.usage(id, created, model, usage);
    }
  }
}
