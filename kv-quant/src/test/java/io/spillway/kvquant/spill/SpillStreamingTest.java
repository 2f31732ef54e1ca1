package io.spillway.kvquant.spill;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;

class SpillStreamingTest {

    /** Keeps nothing: counts bytes and checksums them, so the test holds no copy either. */
    private static final class CountingSink extends OutputStream {
        long count;
        final CRC32C crc = new CRC32C();

        @Override
        public void write(int b) {
            count++;
            crc.update(b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
            crc.update(b, off, len);
        }
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.SECONDS)
    void a64MiBSectionStreamsOutAsItIsWritten() throws IOException {
        CountingSink sink = new CountingSink();
        byte[] chunk = SpillFixtures.random(1 << 20, 3);
        int chunks = 64;
        int frame = SpillFormat.DEFAULT_FRAME_BYTES;
        try (SpillWriter w = new SpillWriter(sink, SpillFixtures.manifest())) {
            long header = sink.count;
            try (OutputStream s = w.section("layer0.keys")) {
                long afterSectionHeader = sink.count;
                for (int i = 1; i <= chunks; i++) {
                    chunk[0] = (byte) i; // not the same MiB over and over
                    s.write(chunk);
                    long written = (long) i << 20;
                    // Everything but at most one frame is already in the sink: the writer holds no more than that.
                    assertThat(sink.count - afterSectionHeader).as("after %d MiB", i).isGreaterThanOrEqualTo(written - frame);
                }
                // A small write stays in the frame buffer until the section ends.
                long before = sink.count;
                s.write(new byte[100]);
                assertThat(sink.count).isEqualTo(before);
            }
            w.finish();
            long data = ((long) chunks << 20) + 100;
            long frames = (data + frame - 1) / frame;
            assertThat(sink.count - header)
                    .as("content plus 8 bytes a frame, the section header, the terminator and the trailer")
                    .isEqualTo(data + 8 * frames + (1 + 2 + 11 + 4) + 16 + 9);
        }
    }
}
