package io.spillway.spill;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FileSpillStoreTest extends SpillStoreContractTest {
    @TempDir
    Path dir;

    @Override
    SpillStore store(long maxBytes) throws IOException {
        return new FileSpillStore(dir, maxBytes, TTL);
    }

    @Override
    List<String> storedObjects() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).toList();
        }
    }

    @Override
    void leaveStraysOfAKilledPut(String sessionId) throws IOException {
        Files.writeString(dir.resolve(sessionId + ".1234.tmp"), "killed mid-put");
        Files.writeString(dir.resolve(sessionId + ".7.blob"), "renamed, sidecar never followed");
    }

    @Test
    void keepsOneSidecarAndOneBlobPerSessionInsideItsFolder() throws Exception {
        SpillStore store = store(1000);
        store.put("s", 0, new ByteArrayInputStream(new byte[] {1}));
        store.put("s", 1, new ByteArrayInputStream(new byte[] {2}));
        assertThatThrownBy(() -> store.put("../x", 0, new ByteArrayInputStream(new byte[] {3}))).isInstanceOf(InvalidSessionIdException.class);
        assertThat(storedObjects()).containsExactlyInAnyOrder("s.meta", "s.2.blob");
        assertThat(dir.getParent().resolve("x")).doesNotExist();
    }
}
