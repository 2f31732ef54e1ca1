package io.spillway.kvquant.spill;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

import static io.spillway.kvquant.spill.SpillFixtures.random;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

class SpillCorruptionTest {

    /**
     * Reads the damaged blob whole; it must end in a SpillFormatException (no other type, no success)
     * and every byte handed out before that must have been the truth.
     */
    private static void assertRefused(byte[] damaged, Map<String, byte[]> original, String what) {
        List<SpillFixtures.Delivered> delivered = new ArrayList<>();
        try {
            SpillFixtures.readAll(damaged, delivered);
        } catch (SpillFormatException expected) {
            if (!SpillFixtures.deliveredOnlyTruth(delivered, original)) {
                fail(what + ": wrong bytes were handed out before the damage was reported (" + expected.getMessage() + ")");
            }
            return;
        } catch (Throwable t) {
            throw new AssertionError(what + ": threw " + t + " instead of a SpillFormatException", t);
        }
        fail(what + ": the damaged blob was read without complaint");
    }

    @Test
    void everyBitFlipOfASmallBlobIsRefused() throws IOException {
        Map<String, byte[]> sections = SpillFixtures.smallSections();
        byte[] blob = SpillFixtures.blob(sections, 16); // 16-byte frames: several frames per section
        assertThat(SpillFixtures.readAll(blob)).containsExactlyEntriesOf(sections);
        for (int i = 0; i < blob.length; i++) {
            for (int mask : new int[] {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}) {
                byte[] damaged = blob.clone();
                damaged[i] ^= (byte) mask;
                assertRefused(damaged, sections, "byte " + i + " of " + blob.length + " xor 0x" + Integer.toHexString(mask));
            }
        }
    }

    @Test
    void sampledByteDamageOfALargerBlobIsRefused() throws IOException {
        Map<String, byte[]> sections = new LinkedHashMap<>();
        SplittableRandom r = new SplittableRandom(77);
        for (int i = 0; i < 12; i++) {
            sections.put("layer" + i + (i % 2 == 0 ? ".keys" : ".values"), random(r.nextInt(i == 3 ? 1 : 200_000), 100 + i));
        }
        byte[] blob = SpillFixtures.blob(sections, 64 << 10);
        TreeSet<Integer> positions = new TreeSet<>();
        while (positions.size() < 300) {
            positions.add(r.nextInt(blob.length));
        }
        for (int i = 0; i < 128; i++) { // header and trailer, where the structure is dense
            positions.add(i);
            positions.add(blob.length - 1 - i);
        }
        for (int p : positions) {
            byte[] damaged = blob.clone();
            damaged[p] ^= (byte) (1 + r.nextInt(255));
            assertRefused(damaged, sections, "byte " + p + " of " + blob.length);
        }
    }

    @Test
    void everyTruncationOfASmallBlobIsReportedAsTruncation() throws IOException {
        Map<String, byte[]> sections = SpillFixtures.smallSections();
        byte[] blob = SpillFixtures.blob(sections, 16);
        for (int n = 0; n < blob.length; n++) {
            byte[] cut = Arrays.copyOf(blob, n);
            List<SpillFixtures.Delivered> delivered = new ArrayList<>();
            int len = n;
            assertThatThrownBy(() -> SpillFixtures.readAll(cut, delivered))
                    .as("blob cut to %d of %d bytes", len, blob.length)
                    .isInstanceOf(SpillCorruptException.class)
                    .hasMessageContaining("truncated");
            assertThat(SpillFixtures.deliveredOnlyTruth(delivered, sections)).isTrue();
        }
    }

    @Test
    void truncationNamesTheSectionAndHowFarItGot() throws IOException {
        Map<String, byte[]> sections = SpillFixtures.smallSections();
        byte[] blob = SpillFixtures.blob(sections, 16);
        // The last section's terminator (16 bytes) and the trailer (9) are at the end: cut inside the last section.
        byte[] cut = Arrays.copyOf(blob, blob.length - 9 - 20);
        assertThatThrownBy(() -> SpillFixtures.readAll(cut))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageMatching("spill blob truncated after \\d+ bytes of section 'layer3\\.keys' \\(the blob ends at byte \\d+\\)");

        byte[] noTrailer = Arrays.copyOf(blob, blob.length - 9);
        assertThatThrownBy(() -> SpillFixtures.readAll(noTrailer))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("after 3 sections: the trailer is missing");

        byte[] inManifest = Arrays.copyOf(blob, 20);
        assertThatThrownBy(() -> SpillFixtures.readAll(inManifest))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessage("spill blob truncated at byte 20, in the manifest");
    }

    @Test
    void lengthsFromTheBlobAreBoundedBeforeAllocating() throws IOException {
        byte[] blob = SpillFixtures.blob(Map.of("s", random(100, 3)), 64 << 10);
        int manifestLength = java.nio.ByteBuffer.wrap(blob).getInt(8);

        byte[] hugeManifest = blob.clone();
        java.nio.ByteBuffer.wrap(hugeManifest).putInt(8, Integer.MAX_VALUE);
        assertThatThrownBy(() -> SpillFixtures.readAll(hugeManifest))
                .isInstanceOf(SpillCorruptException.class).hasMessageContaining("manifest length 2147483647");

        // Section: tag at 16 + manifestLength, name length (2), name "s" (1), header CRC (4), then frame 0's length.
        int frameLengthAt = 12 + manifestLength + 4 + 1 + 2 + 1 + 4;
        assertThat(java.nio.ByteBuffer.wrap(blob).getInt(frameLengthAt)).isEqualTo(100);
        byte[] hugeFrame = blob.clone();
        java.nio.ByteBuffer.wrap(hugeFrame).putInt(frameLengthAt, 0x7fff_0000);
        assertThatThrownBy(() -> SpillFixtures.readAll(hugeFrame))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("frame 0 of section 's'").hasMessageContaining("has length 2147418112");

        byte[] negativeFrame = blob.clone();
        java.nio.ByteBuffer.wrap(negativeFrame).putInt(frameLengthAt, -4);
        assertThatThrownBy(() -> SpillFixtures.readAll(negativeFrame))
                .isInstanceOf(SpillCorruptException.class).hasMessageContaining("has length -4");
    }

    @Test
    void contentDamageNamesTheSectionFrameAndBothChecksums() throws IOException {
        Map<String, byte[]> sections = SpillFixtures.smallSections();
        byte[] blob = SpillFixtures.blob(sections, 16);
        byte[] damaged = blob.clone();
        damaged[blob.length - 9 - 16 - 4 - 1] ^= 0x40; // the last content byte of 'layer3.keys'
        assertThatThrownBy(() -> SpillFixtures.readAll(damaged))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageMatching("corrupt spill blob: CRC32C mismatch in frame 3 of section 'layer3\\.keys' "
                        + "\\(content bytes 48\\.\\.50\\): stored [0-9a-f]{8}, computed [0-9a-f]{8}");
    }

    @Test
    void splicingSectionsOfAnotherBlobIsCaughtByTheTrailer() throws IOException {
        // Same sizes and names, other content: every section is self-consistent, the trailer is not.
        Map<String, byte[]> a = SpillFixtures.smallSections();
        Map<String, byte[]> b = new LinkedHashMap<>();
        a.forEach((k, v) -> b.put(k, random(v.length, 999 + v.length)));
        byte[] blobA = SpillFixtures.blob(a, 16);
        byte[] blobB = SpillFixtures.blob(b, 16);
        assertThat(blobB).hasSameSizeAs(blobA);
        byte[] spliced = blobA.clone();
        int lastSectionStart = blobA.length - 9 - (1 + 2 + 11 + 4) - (4 * (4 + 16 + 4) - 14) - 16; // 'layer3.keys': 50 bytes, 4 frames
        System.arraycopy(blobB, lastSectionStart, spliced, lastSectionStart, blobA.length - 9 - lastSectionStart);
        assertThat(spliced[lastSectionStart]).isEqualTo((byte) 'S');
        assertThatThrownBy(() -> SpillFixtures.readAll(spliced))
                .isInstanceOf(SpillCorruptException.class)
                .hasMessageContaining("trailer CRC32C mismatch over the manifest and 3 sections");
    }
}
