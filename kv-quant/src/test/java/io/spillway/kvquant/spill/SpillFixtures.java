package io.spillway.kvquant.spill;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/** Manifests, blobs and a reader loop shared by the spill tests. */
final class SpillFixtures {
    static final String MODEL = "abc123";
    static final String METHOD = "rotatekv2";
    static final String CALIBRATION = "9f1c2e4d5a6b7c80";

    private SpillFixtures() {
    }

    static SpillManifest manifest() {
        return new SpillManifest(MODEL, METHOD, 2, 2, 128, CALIBRATION, 22, 256, 128, 1000,
                Map.of("layout", "1", "session", "s-42"));
    }

    static SpillExpectation expectation() {
        return new SpillExpectation(MODEL, METHOD, CALIBRATION, 22, 256, 128);
    }

    static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            b[i] = (byte) r.nextInt(256);
        }
        return b;
    }

    /** Writes {@code sections} (in order) with frames of {@code frameBytes}. */
    static byte[] blob(Map<String, byte[]> sections, int frameBytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (SpillWriter w = new SpillWriter(out, manifest(), frameBytes)) {
            for (var e : sections.entrySet()) {
                w.section(e.getKey(), e.getValue());
            }
            w.finish();
        }
        return out.toByteArray();
    }

    /** A small blob with several frames per section when written with tiny frames. */
    static Map<String, byte[]> smallSections() {
        Map<String, byte[]> s = new LinkedHashMap<>();
        s.put("meta", random(40, 1));
        s.put("empty", new byte[0]);
        s.put("layer3.keys", random(50, 2));
        return s;
    }

    /** A section's name and the bytes its stream delivered, however far it got. */
    record Delivered(String name, ByteArrayOutputStream bytes) {
    }

    /**
     * Reads the whole blob in small, uneven reads, recording into {@code delivered} every byte handed
     * out, so a test can check what a consumer saw before an exception.
     */
    static void readAll(byte[] blob, List<Delivered> delivered) throws IOException {
        try (SpillReader r = SpillReader.open(new ByteArrayInputStream(blob), expectation())) {
            byte[] chunk = new byte[blob.length < 4096 ? 7 : 8192]; // small reads where blobs are small
            for (Optional<SpillReader.Section> s = r.next(); s.isPresent(); s = r.next()) {
                Delivered d = new Delivered(s.get().name(), new ByteArrayOutputStream());
                delivered.add(d);
                InputStream in = s.get().stream();
                for (int n; (n = in.read(chunk)) >= 0; ) {
                    d.bytes().write(chunk, 0, n);
                }
            }
        }
    }

    static Map<String, byte[]> readAll(byte[] blob) throws IOException {
        List<Delivered> delivered = new ArrayList<>();
        readAll(blob, delivered);
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Delivered d : delivered) {
            out.put(d.name(), d.bytes().toByteArray());
        }
        return out;
    }

    /** True when every delivered section is, in order, the original's name and a prefix of its content. */
    static boolean deliveredOnlyTruth(List<Delivered> delivered, Map<String, byte[]> original) {
        List<Map.Entry<String, byte[]>> orig = new ArrayList<>(original.entrySet());
        if (delivered.size() > orig.size()) {
            return false;
        }
        for (int i = 0; i < delivered.size(); i++) {
            byte[] got = delivered.get(i).bytes().toByteArray();
            byte[] want = orig.get(i).getValue();
            if (!delivered.get(i).name().equals(orig.get(i).getKey()) || got.length > want.length
                    || !Arrays.equals(got, 0, got.length, want, 0, got.length)) {
                return false;
            }
        }
        return true;
    }
}
