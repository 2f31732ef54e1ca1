package io.spillway.spill;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;

/** A stored spill opened for reading; the caller streams {@code content} and closes it. */
public record StoredBlob(Stored stored, InputStream content) implements Closeable {
    @Override
    public void close() throws IOException {
        content.close();
    }
}
