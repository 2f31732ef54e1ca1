package io.spillway.spill;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;

/**
 * The text form of a {@link Stored} that both stores keep next to a blob (the filesystem sidecar, the S3 head
 * object): Java properties, so an operator can read it with {@code cat}.
 */
final class StoredProperties {
    private StoredProperties() {
    }

    /** Writes {@code stored} and the store's own {@code extra} entries. */
    static void write(Stored stored, Map<String, String> extra, OutputStream out) throws IOException {
        Properties properties = new Properties();
        properties.setProperty("version", Long.toString(stored.version()));
        properties.setProperty("bytes", Long.toString(stored.bytes()));
        properties.setProperty("sha256", stored.sha256());
        properties.setProperty("storedAt", stored.storedAt().toString());
        extra.forEach(properties::setProperty);
        Writer writer = new OutputStreamWriter(out, StandardCharsets.UTF_8);
        properties.store(writer, null);
        writer.flush();
    }

    static Properties read(InputStream in) throws IOException {
        Properties properties = new Properties();
        try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            properties.load(reader);
        }
        return properties;
    }

    static Stored toStored(String sessionId, Properties properties) {
        return new Stored(sessionId, Long.parseLong(properties.getProperty("version")), Long.parseLong(properties.getProperty("bytes")),
                properties.getProperty("sha256"), Instant.parse(properties.getProperty("storedAt")));
    }
}
