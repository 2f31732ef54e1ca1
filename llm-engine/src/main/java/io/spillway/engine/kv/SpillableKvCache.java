package io.spillway.engine.kv;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;

/**
 * A cache whose stored form can be written to a spill blob and read back as it is, layer by layer,
 * so a resumed session continues from the very bits it had (see {@link KvSpill}).
 */
public interface SpillableKvCache extends KvCache {

    /** What the stored bits mean; a blob is only read into a cache of the same format. */
    SpillFormat spillFormat();

    /** Writes one layer's stored form. */
    void writeLayer(int layer, DataOutput out) throws IOException;

    /** Reads one layer written by {@link #writeLayer} for a cache of {@code tokens} tokens; rejects what does not fit. */
    void readLayer(int layer, DataInput in, int tokens) throws IOException;

    /** Ends a restore: every layer was read and the cache now holds {@code tokens} tokens. */
    void restored(int tokens);
}
