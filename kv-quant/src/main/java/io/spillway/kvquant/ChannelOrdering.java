package io.spillway.kvquant;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Candidate orders of the rotated key channels, ranked by a statistic over calibration keys.
 * {@link #SUM} is the RotateKV reference's (channels sorted by their summed value); the others are
 * compared against it by the calibrator, which keeps whichever quantizes the calibration keys best.
 */
public enum ChannelOrdering {
    IDENTITY, SUM, ABS_MEAN, MAX_ABS;

    /** The gather order sorting channels ascending by this ordering's statistic. */
    int[] order(double[] sum, double[] absSum, double[] maxAbs) {
        double[] key = switch (this) {
            case IDENTITY -> null;
            case SUM -> sum;
            case ABS_MEAN -> absSum;
            case MAX_ABS -> maxAbs;
        };
        if (key == null) {
            return IntStream.range(0, sum.length).toArray();
        }
        return IntStream.range(0, key.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> key[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    static ChannelOrdering parse(String s) {
        return Arrays.stream(values()).filter(o -> o.name().equalsIgnoreCase(s.replace('-', '_'))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown channel ordering '" + s + "'"));
    }
}
