package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;

/**
 * A step's prefill chunks as llama.cu's {@code attend_prefill} takes them: tiles of one sequence's consecutive
 * query tokens, as many as fill a block's 64 (token, query head) rows. A 2-bit step first decodes each chunk's
 * sequence into fp16 rows, {@link #span} positions a sequence, which {@link #rowAddresses} places end to end.
 */
final class Prefill {
    /** attend_prefill's block: 4 warps of 16 rows each. */
    static final int THREADS = 128;
    private static final int ROWS = 64;

    private final int tokensPerTile;
    private final List<int[]> tiles = new ArrayList<>();
    private final List<int[]> sequences = new ArrayList<>();
    private int span;

    /** @param queryHeadsPerKvHead rows each query token takes */
    Prefill(int queryHeadsPerKvHead) {
        this.tokensPerTile = ROWS / queryHeadsPerKvHead;
    }

    /** A chunk of {@code count} tokens from index {@code first} of the step, its sequence {@code length} positions long after it. */
    void add(int first, int count, int length) {
        for (int at = first; at < first + count; at += tokensPerTile) {
            tiles.add(new int[] {at, Math.min(tokensPerTile, first + count - at)});
        }
        sequences.add(new int[] {first, count});
        span = Math.max(span, length);
    }

    int tiles() {
        return tiles.size();
    }

    int sequences() {
        return sequences.size();
    }

    /** The longest sequence's positions after the step. */
    int span() {
        return span;
    }

    /** (first token, tokens) per tile. */
    int[] tileArray() {
        int[] out = new int[2 * tiles.size()];
        for (int i = 0; i < tiles.size(); i++) {
            out[2 * i] = tiles.get(i)[0];
            out[2 * i + 1] = tiles.get(i)[1];
        }
        return out;
    }

    /** Each chunk's last token index. */
    int[] lastTokens() {
        return sequences.stream().mapToInt(s -> s[0] + s[1] - 1).toArray();
    }

    /** Bytes of fp16 keys and values for every chunk's sequence, {@code kvDim} channels a position. */
    long unpackedBytes(int kvDim) {
        return 2L * 2 * kvDim * span * sequences.size();
    }

    /** Per token of the step: where its chunk's decoded rows start within {@code base} (0 for decode tokens). */
    long[] rowAddresses(int tokens, Pointer base, int kvDim) {
        long[] out = new long[tokens];
        long stride = 2L * 2 * kvDim * span;
        for (int z = 0; z < sequences.size(); z++) {
            int[] s = sequences.get(z);
            for (int t = s[0]; t < s[0] + s[1]; t++) {
                out[t] = base.address() + z * stride;
            }
        }
        return out;
    }
}
