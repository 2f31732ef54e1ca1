package io.spillway.kvquant.spill;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;

import static io.spillway.kvquant.spill.SpillFixtures.CALIBRATION;
import static io.spillway.kvquant.spill.SpillFixtures.METHOD;
import static io.spillway.kvquant.spill.SpillFixtures.MODEL;
import static io.spillway.kvquant.spill.SpillFixtures.expectation;
import static io.spillway.kvquant.spill.SpillFixtures.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SpillRefusalTest {

    private static byte[] blob() throws IOException {
        return SpillFixtures.blob(Map.of("layer0.keys", random(500, 7)), 64 << 10);
    }

    private static SpillMismatchException mismatch(SpillExpectation expected) throws IOException {
        byte[] blob = blob();
        try {
            SpillReader.open(new ByteArrayInputStream(blob), expected).close();
        } catch (SpillMismatchException e) {
            return e;
        }
        throw new AssertionError("a blob for " + SpillFixtures.manifest() + " was accepted by " + expected);
    }

    @Test
    void refusesAnotherModel() throws IOException {
        SpillMismatchException e = mismatch(new SpillExpectation("def456", METHOD, CALIBRATION, 22, 256, 128));
        assertThat(e).hasMessage("spilled cache was made for model abc123, this worker runs def456");
        assertThat(e.field()).isEqualTo("modelFingerprint");
        assertThat(e.spilled()).isEqualTo("abc123");
        assertThat(e.expected()).isEqualTo("def456");
    }

    @Test
    void refusesAnotherMethod() throws IOException {
        SpillMismatchException e = mismatch(new SpillExpectation(MODEL, "kivi2", CALIBRATION, 22, 256, 128));
        assertThat(e).hasMessage("spilled cache was made with KV method rotatekv2, this worker uses kivi2");
        assertThat(e.field()).isEqualTo("method");
    }

    @Test
    void refusesAnotherCalibrationOrNone() throws IOException {
        assertThat(mismatch(new SpillExpectation(MODEL, METHOD, "0000aaaa0000aaaa", 22, 256, 128)))
                .hasMessage("spilled cache was made with calibration 9f1c2e4d5a6b7c80, this worker uses 0000aaaa0000aaaa");
        SpillMismatchException none = mismatch(new SpillExpectation(MODEL, METHOD, "", 22, 256, 128));
        assertThat(none).hasMessage("spilled cache was made with calibration 9f1c2e4d5a6b7c80, this worker uses none");
        assertThat(none.field()).isEqualTo("calibrationId");
    }

    @Test
    void refusesAnotherShape() throws IOException {
        assertThat(mismatch(new SpillExpectation(MODEL, METHOD, CALIBRATION, 32, 256, 128)))
                .hasMessage("spilled cache has 22 layers, this worker's model has 32")
                .extracting(e -> ((SpillMismatchException) e).field()).isEqualTo("layers");
        assertThat(mismatch(new SpillExpectation(MODEL, METHOD, CALIBRATION, 22, 1024, 128)))
                .hasMessage("spilled cache has kvDim 256, this worker's model has kvDim 1024");
        assertThat(mismatch(new SpillExpectation(MODEL, METHOD, CALIBRATION, 22, 256, 64)))
                .hasMessage("spilled cache has blockTokens 128, this worker uses blockTokens 64");
    }

    @Test
    void namesEveryDifferenceAtOnce() throws IOException {
        SpillMismatchException e = mismatch(new SpillExpectation("def456", METHOD, CALIBRATION, 32, 256, 128));
        assertThat(e.getMessage()).contains("model abc123, this worker runs def456").contains("22 layers");
        assertThat(e.field()).isEqualTo("modelFingerprint");
    }

    @Test
    void refusesWhatIsNotASpillBlob() throws IOException {
        byte[] blob = blob();
        blob[0] = 'G';
        blob[1] = 'G';
        assertThatThrownBy(() -> SpillReader.open(new ByteArrayInputStream(blob), expectation()))
                .isExactlyInstanceOf(SpillFormatException.class)
                .hasMessageContaining("not a Spillway spill blob")
                .hasMessageContaining("0x47474b56");
    }

    @Test
    void refusesANewerOrOlderFormatVersion() throws IOException {
        byte[] blob = blob();
        ByteBuffer.wrap(blob).putInt(4, 7);
        assertThatThrownBy(() -> SpillReader.open(new ByteArrayInputStream(blob), expectation()))
                .isExactlyInstanceOf(SpillFormatException.class)
                .hasMessageContaining("format version 7 is newer than this worker's 1");
        ByteBuffer.wrap(blob).putInt(4, 0);
        assertThatThrownBy(() -> SpillReader.open(new ByteArrayInputStream(blob), expectation()))
                .isExactlyInstanceOf(SpillFormatException.class)
                .hasMessageContaining("format version 0 is older than this worker supports");
    }

    @Test
    void refusesADamagedManifest() throws IOException {
        byte[] blob = blob();
        int manifestLength = ByteBuffer.wrap(blob).getInt(8);
        int crcAt = 12 + manifestLength;

        byte[] crcDamaged = blob.clone();
        crcDamaged[crcAt + 2] ^= 0x01;
        assertThatThrownBy(() -> SpillReader.open(new ByteArrayInputStream(crcDamaged), expectation()))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("manifest CRC32C mismatch")
                .hasMessageContaining("stored ").hasMessageContaining("computed ");

        // A manifest byte changed so that it still decodes (the model id "abc123" -> "abd123") must not pass either.
        byte[] fieldDamaged = blob.clone();
        int at = indexOf(fieldDamaged, "abc123".getBytes());
        assertThat(at).isBetween(12, crcAt);
        fieldDamaged[at + 2] = 'd';
        assertThatThrownBy(() -> SpillReader.open(new ByteArrayInputStream(fieldDamaged), expectation()))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("manifest CRC32C mismatch");
    }

    @Test
    void refusingClosesTheStream() throws IOException {
        boolean[] closed = {false};
        ByteArrayInputStream in = new ByteArrayInputStream(blob()) {
            @Override
            public void close() {
                closed[0] = true;
            }
        };
        assertThatThrownBy(() -> SpillReader.open(in, new SpillExpectation("x", METHOD, CALIBRATION, 22, 256, 128)))
                .isInstanceOf(SpillMismatchException.class);
        assertThat(closed[0]).isTrue();
    }

    @Test
    void writerRefusesAManifestOfAnotherFormatVersion() {
        SpillManifest v2 = new SpillManifest(2, MODEL, METHOD, 2, 2, 128, CALIBRATION, 22, 256, 128, 0, Map.of());
        assertThatThrownBy(() -> new SpillWriter(new ByteArrayOutputStream(), v2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("writes format version 1");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
