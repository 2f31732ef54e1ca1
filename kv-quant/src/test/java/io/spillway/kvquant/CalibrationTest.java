package io.spillway.kvquant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CalibrationTest {

    /** Keys whose rotated channels have very different scales: grouping them by scale must pay off. */
    private static Calibrator calibrated() {
        int dim = 256;
        Calibrator c = new Calibrator(2, dim, 1, 64);
        SplittableRandom r = new SplittableRandom(3);
        float[] rows = new float[64 * dim];
        for (int i = 0; i < rows.length; i++) {
            int ch = i % dim;
            rows[i] = (float) (r.nextGaussian() * (ch % 4 == 0 ? 8 : 0.5) + (ch % 7 == 0 ? 2 : 0));
        }
        c.add(0, rows, 0, 64);
        c.add(1, rows, 0, 64);
        return c;
    }

    @Test
    void picksAnOrderingThatBeatsIdentity() {
        Calibrator c = calibrated();
        Calibration cal = c.finish("model-x");
        assertThat(cal.orderings().getFirst()).isNotEqualTo(ChannelOrdering.IDENTITY);
        assertThat(cal.layers()).isEqualTo(2);
        int[] identity = java.util.stream.IntStream.range(0, 256).toArray();
        assertThat(c.error(sampleRows(), cal.order(0))).isLessThan(c.error(sampleRows(), identity));
    }

    private static java.util.List<float[]> sampleRows() {
        SplittableRandom r = new SplittableRandom(9);
        java.util.List<float[]> rows = new java.util.ArrayList<>();
        for (int t = 0; t < 32; t++) {
            float[] row = new float[256];
            for (int ch = 0; ch < 256; ch++) {
                row[ch] = (float) (r.nextGaussian() * (ch % 4 == 0 ? 8 : 0.5) + (ch % 7 == 0 ? 2 : 0));
            }
            rows.add(row);
        }
        return rows;
    }

    @Test
    void writesAndReadsTheSameCalibration(@TempDir Path dir) throws IOException {
        Calibration cal = calibrated().finish("model-x");
        Path file = dir.resolve(Calibration.FILE_NAME);
        cal.write(file);
        Calibration back = Calibration.read(file);
        assertThat(back.id()).isEqualTo(cal.id());
        assertThat(back.order(1)).containsExactly(cal.order(1));
        assertThat(back.modelFingerprint()).isEqualTo("model-x");
        assertThat(Files.readString(file)).startsWith("spillway-kv-calibration 1\n");
    }

    @Test
    void malformedFilesAreRefusedWithTheLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("c.txt");
        Files.writeString(file, "something else\n");
        assertThatThrownBy(() -> Calibration.read(file)).isInstanceOf(IOException.class).hasMessageContaining("format 1");
        Files.writeString(file, "spillway-kv-calibration 1\nmodel m\nrotation-size 1\ngroup-size 2\nlayer 0 sum 0,0\n");
        assertThatThrownBy(() -> Calibration.read(file)).hasMessageContaining("permutation");
        Files.writeString(file, "spillway-kv-calibration 1\nmodel m\nrotation-size x\n");
        assertThatThrownBy(() -> Calibration.read(file)).hasMessageContaining("line 3");
        assertThatThrownBy(() -> Calibration.read(dir.resolve("missing.txt"))).hasMessageContaining("not found");
    }
}
