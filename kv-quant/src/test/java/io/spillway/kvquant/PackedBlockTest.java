package io.spillway.kvquant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PackedBlockTest {

    private static float[] gaussian(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static float[] decode(PackedBlock b) {
        float[] out = new float[b.rows() * b.cols()];
        for (int r = 0; r < b.rows(); r++) {
            b.dequantizeRow(r, out, r * b.cols());
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 4, 8})
    void perTokenErrorIsWithinHalfAStepOfEachGroup(int bits) {
        int rows = 16;
        int cols = 256;
        int group = 64;
        float[] x = gaussian(rows * cols, bits);
        int[] b = new int[rows];
        Arrays.fill(b, bits);
        float[] y = decode(PackedBlock.perToken(x, 0, rows, cols, group, b));
        for (int r = 0; r < rows; r++) {
            for (int g = 0; g < cols / group; g++) {
                float min = Float.MAX_VALUE;
                float max = -Float.MAX_VALUE;
                for (int c = g * group; c < (g + 1) * group; c++) {
                    min = Math.min(min, x[r * cols + c]);
                    max = Math.max(max, x[r * cols + c]);
                }
                // Half a step, plus the fp16 rounding of scale and min.
                float tolerance = (max - min) / ((1 << bits) - 1) / 2 * 1.01f + 2e-3f * Math.max(1, Math.abs(min));
                for (int c = g * group; c < (g + 1) * group; c++) {
                    assertThat(Math.abs(y[r * cols + c] - x[r * cols + c])).isLessThanOrEqualTo(tolerance + tolerance * 0.02f * (1 << bits));
                }
            }
        }
    }

    @Test
    void moreBitsMeanLessError() {
        float[] x = gaussian(8 * 128, 11);
        double[] err = new double[3];
        int i = 0;
        for (int bits : new int[] {2, 4, 8}) {
            int[] b = new int[8];
            Arrays.fill(b, bits);
            float[] y = decode(PackedBlock.perToken(x, 0, 8, 128, 128, b));
            for (int k = 0; k < x.length; k++) {
                err[i] += (x[k] - y[k]) * (x[k] - y[k]);
            }
            i++;
        }
        assertThat(err[0]).isGreaterThan(err[1] * 8);
        assertThat(err[1]).isGreaterThan(err[2] * 8);
    }

    @Test
    void constantAndTinyRangeGroupsDecodeWithoutNaN() {
        float[] x = new float[4 * 32];
        Arrays.fill(x, 0, 32, 3.25f);
        for (int c = 32; c < 64; c++) {
            x[c] = 1e-9f * c;
        }
        Arrays.fill(x, 64, 96, 0f);
        for (int c = 96; c < 128; c++) {
            x[c] = 1000f + 1e-6f * c;
        }
        float[] y = decode(PackedBlock.perToken(x, 0, 4, 32, 32, new int[] {2, 2, 2, 2}));
        for (int c = 0; c < y.length; c++) {
            assertThat(y[c]).isNotNaN();
            assertThat(Math.abs(y[c] - x[c])).isLessThan(0.6f);
        }
        assertThat(Arrays.copyOfRange(y, 0, 32)).containsOnly(3.25f);
        assertThat(Arrays.copyOfRange(y, 64, 96)).containsOnly(0f);
    }

    @Test
    void mixedBitsPerTokenKeepEachTokensPrecision() {
        float[] x = gaussian(4 * 128, 3);
        PackedBlock b = PackedBlock.perToken(x, 0, 4, 128, 128, new int[] {2, 4, 2, 8});
        assertThat(b.bits(1)).isEqualTo(4);
        assertThat(b.bytes()).isEqualTo((128 * 2 + 128 * 4 + 128 * 2 + 128 * 8) / 8 + 2 * 2 * 4 + 4);
        float[] y = decode(b);
        double e2 = 0;
        double e8 = 0;
        for (int c = 0; c < 128; c++) {
            e2 += Math.abs(y[c] - x[c]);
            e8 += Math.abs(y[3 * 128 + c] - x[3 * 128 + c]);
        }
        assertThat(e8).isLessThan(e2 / 20);
    }

    @Test
    void perChannelGroupsRunAlongTokensWithAShortLastGroup() {
        int rows = 40;
        int cols = 8;
        float[] x = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                x[r * cols + c] = c * 100 + (r % 4);
            }
        }
        PackedBlock b = PackedBlock.perChannel(x, 0, rows, cols, 32, 2);
        assertThat(decode(b)).containsExactly(x);
        assertThat(b.bytes()).isEqualTo(rows * cols * 2 / 8 + 2L * 2 * 2 * cols);
    }

    @Test
    void twoBitCodesPackFourToAByte() {
        int[] bits = new int[128];
        Arrays.fill(bits, 2);
        PackedBlock b = PackedBlock.perToken(gaussian(128 * 128, 1), 0, 128, 128, 128, bits);
        assertThat(b.bytes()).isEqualTo(128 * 128 / 4 + 128 * 2 * 2);
    }

    @Test
    void serializesAndRefusesCorruptInput() throws IOException {
        PackedBlock b = PackedBlock.perToken(gaussian(8 * 64, 2), 0, 8, 64, 32, new int[] {2, 4, 2, 2, 8, 2, 2, 2});
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        b.writeTo(new DataOutputStream(bytes));
        byte[] raw = bytes.toByteArray();
        assertThat(PackedBlock.readFrom(new DataInputStream(new ByteArrayInputStream(raw)))).isEqualTo(b);
        byte[] badBits = raw.clone();
        badBits[13] = 3;
        assertThatThrownBy(() -> PackedBlock.readFrom(new DataInputStream(new ByteArrayInputStream(badBits))))
                .isInstanceOf(IOException.class).hasMessageContaining("bit width");
        byte[] badAxis = raw.clone();
        badAxis[0] = 9;
        assertThatThrownBy(() -> PackedBlock.readFrom(new DataInputStream(new ByteArrayInputStream(badAxis))))
                .isInstanceOf(IOException.class).hasMessageContaining("axis");
        assertThatThrownBy(() -> PackedBlock.readFrom(new DataInputStream(new ByteArrayInputStream(Arrays.copyOf(raw, raw.length - 5)))))
                .isInstanceOf(IOException.class);
    }

    @Test
    void rebuildsABlockFromItsPackedCodesScalesAndMins() {
        int rows = 5, cols = 64, group = 32, groups = cols / group;
        int[] bits = new int[rows];
        Arrays.fill(bits, 2);
        PackedBlock b = PackedBlock.perToken(gaussian(rows * cols, 3), 0, rows, cols, group, bits);
        byte[] packed = new byte[rows * cols / 4 + 1];
        b.copyPacked(packed, 1);
        short[] scales = new short[rows * groups];
        short[] mins = new short[rows * groups];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                assertThat((packed[1 + (r * cols + c) / 4] >> (2 * (c % 4))) & 3).as("code %d,%d", r, c).isEqualTo(b.code(r, c));
            }
            for (int g = 0; g < groups; g++) {
                scales[r * groups + g] = b.scaleBits(r * groups + g);
                mins[r * groups + g] = b.minBits(r * groups + g);
            }
        }
        byte[] codes = Arrays.copyOfRange(packed, 1, packed.length);
        assertThat(PackedBlock.ofPacked(rows, cols, group, 2, codes, scales, mins)).isEqualTo(b);
        assertThatThrownBy(() -> PackedBlock.ofPacked(rows, cols, group, 2, new byte[3], scales, mins)).hasMessageContaining("do not fit");
        assertThatThrownBy(() -> PackedBlock.ofPacked(rows, cols, group, 3, codes, scales, mins)).hasMessageContaining("bits must be");
        int[] mixed = {2, 4, 2, 2, 2};
        assertThatThrownBy(() -> PackedBlock.perToken(gaussian(rows * cols, 3), 0, rows, cols, group, mixed).copyPacked(packed, 0))
                .hasMessageContaining("different bit widths");
    }

    @Test
    void refusesBadShapes() {
        assertThatThrownBy(() -> PackedBlock.perToken(new float[100], 0, 1, 100, 32, new int[] {2}))
                .hasMessageContaining("must divide");
        assertThatThrownBy(() -> PackedBlock.perToken(new float[64], 0, 1, 64, 32, new int[] {3}))
                .hasMessageContaining("2, 4 or 8");
    }
}
