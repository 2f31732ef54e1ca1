package io.spillway.kvquant.spill;

import io.spillway.kvquant.PackedBlock;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

import static io.spillway.kvquant.spill.SpillFixtures.expectation;
import static io.spillway.kvquant.spill.SpillFixtures.manifest;
import static io.spillway.kvquant.spill.SpillFixtures.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpillRoundTripTest {

    @Test
    void sectionsAndManifestComeBackIdentical() throws IOException {
        byte[] meta = random(300, 11);
        byte[] streamed = random(200_000, 12);
        byte[] big = random(5 << 20, 13);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SpillWriter w = new SpillWriter(out, manifest())) {
            w.section("meta", meta);
            try (OutputStream s = w.section("layer0.keys")) {
                // Many small writes of uneven sizes, single bytes among them, across many frame boundaries.
                SplittableRandom r = new SplittableRandom(5);
                int at = 0;
                while (at < streamed.length) {
                    if (r.nextInt(4) == 0) {
                        s.write(streamed[at++]);
                    } else {
                        int n = Math.min(streamed.length - at, 1 + r.nextInt(3000));
                        s.write(streamed, at, n);
                        at += n;
                    }
                }
            }
            w.section("empty", new byte[0]);
            w.section("layer0.values", big);
            w.finish();
        }

        try (SpillReader r = SpillReader.open(new ByteArrayInputStream(out.toByteArray()), expectation())) {
            assertThat(r.manifest()).isEqualTo(manifest());
            assertThat(r.manifest().extra()).containsExactly(Map.entry("layout", "1"), Map.entry("session", "s-42"));
            List<String> names = new ArrayList<>();
            List<byte[]> contents = new ArrayList<>();
            for (Optional<SpillReader.Section> s = r.next(); s.isPresent(); s = r.next()) {
                names.add(s.get().name());
                contents.add(s.get().readAllBytes());
            }
            assertThat(names).containsExactly("meta", "layer0.keys", "empty", "layer0.values");
            assertThat(contents.get(0)).isEqualTo(meta);
            assertThat(contents.get(1)).isEqualTo(streamed);
            assertThat(contents.get(2)).isEmpty();
            assertThat(contents.get(3)).isEqualTo(big);
            assertThat(r.next()).isEmpty();
        }
    }

    @Test
    void manifestWithUnicodeAndNoCalibrationRoundTrips() throws IOException {
        SpillManifest m = new SpillManifest("modèle-ü-日本", "kivi2:group=64", 2, 2, 64, "", 1, 64, 32, 0,
                Map.of("note", "naïve ✓", "z", ""));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SpillWriter w = new SpillWriter(out, m)) {
            w.finish();
        }
        try (SpillReader r = SpillReader.open(new ByteArrayInputStream(out.toByteArray()),
                new SpillExpectation("modèle-ü-日本", "kivi2:group=64", "", 1, 64, 32))) {
            assertThat(r.manifest()).isEqualTo(m);
            assertThat(r.next()).isEmpty();
        }
    }

    @Test
    void packedBlocksComeBackEqualThroughASection() throws IOException {
        SplittableRandom rnd = new SplittableRandom(21);
        int rows = 32;
        int cols = 128;
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        int[] twoBit = new int[rows];
        java.util.Arrays.fill(twoBit, 2);
        int[] mixed = new int[rows];
        for (int i = 0; i < rows; i++) {
            mixed[i] = i % 5 == 0 ? 8 : i % 3 == 0 ? 4 : 2;
        }
        List<PackedBlock> blocks = List.of(
                PackedBlock.perToken(x, 0, rows, cols, 32, twoBit),
                PackedBlock.perToken(x, 0, rows, cols, 64, mixed),
                PackedBlock.perChannel(x, 0, rows, cols, 32, 2));

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SpillWriter w = new SpillWriter(out, manifest())) {
            try (DataOutputStream s = new DataOutputStream(w.section("layer0.blocks"))) {
                s.writeInt(blocks.size());
                for (PackedBlock b : blocks) {
                    b.writeTo(s);
                }
            }
            w.finish();
        }

        try (SpillReader r = SpillReader.open(new ByteArrayInputStream(out.toByteArray()), expectation())) {
            SpillReader.Section s = r.next().orElseThrow();
            assertThat(s.name()).isEqualTo("layer0.blocks");
            DataInputStream in = new DataInputStream(s.stream());
            int n = in.readInt();
            List<PackedBlock> back = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                back.add(PackedBlock.readFrom(in));
            }
            assertThat(back).containsExactlyElementsOf(blocks);
            assertThat(in.read()).as("section ends right after the blocks").isEqualTo(-1);
            assertThat(r.next()).isEmpty();
        }
    }

    @Test
    void sectionsLeftUnreadAreStillVerifiedByNext() throws IOException {
        Map<String, byte[]> sections = new LinkedHashMap<>();
        sections.put("a", random(100_000, 31));
        sections.put("b", random(10, 32));
        byte[] blob = SpillFixtures.blob(sections, 4096);
        try (SpillReader r = SpillReader.open(new ByteArrayInputStream(blob), expectation())) {
            assertThat(r.next().orElseThrow().stream().read()).isGreaterThanOrEqualTo(0); // read one byte of "a" only
            assertThat(r.next().orElseThrow().name()).isEqualTo("b"); // never read
            assertThat(r.next()).isEmpty();
        }

        byte[] damaged = blob.clone();
        damaged[50_000] ^= 0x10; // inside "a"'s content
        try (SpillReader r = SpillReader.open(new ByteArrayInputStream(damaged), expectation())) {
            r.next().orElseThrow();
            assertThatThrownBy(r::next).isInstanceOf(SpillCorruptException.class)
                    .hasMessageContaining("section 'a'").hasMessageContaining("CRC32C mismatch");
            // The reader stays failed rather than reading on into a stream it lost its place in.
            assertThatThrownBy(r::next).isInstanceOf(SpillCorruptException.class);
        }
    }

    @Test
    void aWriterClosedWithoutFinishLeavesABlobReadersRefuse() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SpillWriter w = new SpillWriter(out, manifest())) {
            w.section("layer0.keys", random(1000, 41));
            // no finish(): as when an exception leaves a try-with-resources block
        }
        assertThatThrownBy(() -> SpillFixtures.readAll(out.toByteArray()))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("truncated")
                .hasMessageContaining("after 1 sections: the trailer is missing");

        ByteArrayOutputStream open = new ByteArrayOutputStream();
        try (SpillWriter w = new SpillWriter(open, manifest())) {
            OutputStream s = w.section("layer0.values");
            s.write(random(100, 42));
            s.flush(); // a frame is out, the section never ends
        }
        assertThatThrownBy(() -> SpillFixtures.readAll(open.toByteArray()))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("truncated after")
                .hasMessageContaining("of section 'layer0.values'");
    }

    @Test
    void manifestRefusesInvalidFields() {
        assertThatThrownBy(() -> new SpillManifest("m", "int2", 2, 2, 32, "", -1, 64, 128, 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layers");
        assertThatThrownBy(() -> new SpillManifest("m", "int2", 2, 2, 32, "", 1, 64, 128, -5, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokenCount");
        assertThatThrownBy(() -> new SpillManifest("m", "int2", 2, 2, 32, null, 1, 64, 128, 0, Map.of()))
                .isInstanceOf(NullPointerException.class).hasMessageContaining("calibrationId");
        assertThatThrownBy(() -> new SpillManifest("", "int2", 2, 2, 32, "", 1, 64, 128, 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("modelFingerprint");
        assertThatThrownBy(() -> new SpillManifest(0, "m", "int2", 2, 2, 32, "", 1, 64, 128, 0, Map.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format version");
        Map<String, String> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThatThrownBy(() -> new SpillManifest("m", "int2", 2, 2, 32, "", 1, 64, 128, 0, nullValue))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("extra");
    }
}
