package io.spillway.kvquant.spill;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

import static io.spillway.kvquant.spill.SpillFixtures.manifest;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpillWriterMisuseTest {

    @Test
    void noSectionAfterFinish() throws IOException {
        try (SpillWriter w = new SpillWriter(new ByteArrayOutputStream(), manifest())) {
            w.section("a", new byte[3]);
            w.finish();
            assertThatThrownBy(() -> w.section("b", new byte[3]))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("finished");
            assertThatThrownBy(() -> w.section("b"))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("finished");
            assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void oneOpenSectionAtATime() throws IOException {
        try (SpillWriter w = new SpillWriter(new ByteArrayOutputStream(), manifest())) {
            OutputStream a = w.section("layer0.keys");
            assertThatThrownBy(() -> w.section("layer0.values"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("section 'layer0.keys' is still open");
            assertThatThrownBy(w::finish)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("section 'layer0.keys' is still open");
            a.close();
            w.section("layer0.values").close();
            w.finish();
        }
    }

    @Test
    void aClosedSectionOrWriterTakesNoMoreBytes() throws IOException {
        SpillWriter w = new SpillWriter(new ByteArrayOutputStream(), manifest());
        OutputStream a = w.section("a");
        a.close();
        a.close(); // idempotent
        assertThatThrownBy(() -> a.write(1)).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        OutputStream b = w.section("b");
        w.close();
        assertThatThrownBy(() -> b.write(new byte[4])).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> w.section("c")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aFailedWriteMakesTheWriterUnusable() throws IOException {
        OutputStream failing = new OutputStream() {
            int budget = 200;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                budget -= len;
                if (budget < 0) {
                    throw new IOException("disk full");
                }
            }
        };
        try (SpillWriter w = new SpillWriter(failing, manifest())) {
            assertThatThrownBy(() -> w.section("a", new byte[1000])).isInstanceOf(IOException.class)
                    .hasMessage("disk full");
            assertThatThrownBy(w::finish).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("an earlier write to the spill failed");
        }
    }

    @Test
    void sectionNamesAreBounded() throws IOException {
        try (SpillWriter w = new SpillWriter(new ByteArrayOutputStream(), manifest())) {
            assertThatThrownBy(() -> w.section("")).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> w.section("x".repeat(257))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("1 to 256 bytes");
            assertThatThrownBy(() -> w.section("bad\uD800")).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("unpaired surrogate");
            w.section("é".repeat(128)).close(); // 256 bytes exactly
            w.finish();
        }
    }
}
