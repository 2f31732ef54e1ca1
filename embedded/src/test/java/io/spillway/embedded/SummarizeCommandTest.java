package io.spillway.embedded;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The summarize command's own errors, before and without a gateway. */
class SummarizeCommandTest {
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) {
        return new SummarizeCommand(new PrintStream(new ByteArrayOutputStream(), true), new PrintStream(err, true)).run(args);
    }

    @Test
    void badArgumentsAreUsageErrors() {
        assertThat(run()).isEqualTo(2);
        assertThat(err.toString()).contains("name the FILE");
        assertThat(run("a.txt", "--colour", "red")).isEqualTo(2);
        assertThat(err.toString()).contains("unknown option --colour");
        assertThat(run("a.txt", "--target-words")).isEqualTo(2);
        assertThat(err.toString()).contains("--target-words needs a value");
        assertThat(run("a.txt", "b.txt")).isEqualTo(2);
    }

    @Test
    void aMissingFileOrGatewayIsSaidPlainly(@TempDir Path dir) throws Exception {
        assertThat(run(dir.resolve("nope.txt").toString())).isEqualTo(1);
        assertThat(err.toString()).contains("cannot read").contains("nope.txt");
        Path file = Files.writeString(dir.resolve("doc.txt"), "Some text.");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        assertThat(run(file.toString(), "--url", "http://localhost:" + port)).isEqualTo(1);
        assertThat(err.toString()).contains("no gateway at http://localhost:" + port);
    }
}
