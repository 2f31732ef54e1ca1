package io.spillway.engine.kv;

/**
 * The keys and values of one sequence, for every layer. The forward pass hands over keys before
 * RoPE so an implementation may store them rotated by position (the dense caches) or quantize them
 * before RoPE and apply it at attention time (RotateKV).
 *
 * <p>Within one forward step the model calls {@link #write} for a layer, then {@link #prepare}, then
 * {@link #attend} for the same layer's queries, and {@link #commit} once every layer has been written.
 * Calls of {@code attend} for different heads of one layer may run concurrently; nothing else may.
 */
public interface KvCache extends AutoCloseable {

    /** Tokens held for every layer. */
    int length();

    /**
     * Stores rows {@code [first, first + count)} of {@code rows} as positions
     * {@code [length(), length() + count)} of {@code layer}.
     */
    void write(int layer, LayerRows rows, int first, int count);

    /** Readies {@code layer} for {@link #attend} calls after its writes of this step (decoding, say). */
    default void prepare(int layer) {
    }

    /**
     * Attention of one query head (already RoPE-rotated, at absolute {@code position}) over the
     * positions {@code [0, position]} of {@code layer}: writes the {@code headDim} outputs at {@code outOff}.
     */
    void attend(int layer, int head, float[] query, int queryOff, int position, float[] out, int outOff);

    /** Ends a forward step that wrote {@code count} new tokens to every layer. */
    void commit(int count);

    /** Drops every token from {@code length} on, so a sequence can be re-extended from a shared prefix. */
    void truncate(int length);

    /** Bytes held by this sequence's cache, everything included. */
    long bytes();

    @Override
    void close();
}
