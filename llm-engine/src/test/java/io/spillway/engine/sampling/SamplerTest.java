package io.spillway.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {

    private static final int[] NO_HISTORY = new int[0];

    /** Logits whose softmax is {@code probs}. */
    private static float[] logitsOf(double... probs) {
        float[] logits = new float[probs.length];
        for (int i = 0; i < probs.length; i++) {
            logits[i] = (float) Math.log(probs[i]);
        }
        return logits;
    }

    private static float[] randomLogits(int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] logits = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            logits[i] = (float) (random.nextGaussian() * 3);
        }
        return logits;
    }

    private static int[] counts(SamplingParams params, float[] logits, int draws) {
        Sampler sampler = new Sampler(params);
        int[] counts = new int[logits.length];
        for (int i = 0; i < draws; i++) {
            counts[sampler.next(logits, NO_HISTORY, 0)]++;
        }
        return counts;
    }

    private static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    @Test
    void greedyTakesTheArgmaxAndTheLowestIdAmongTies() {
        Sampler sampler = new Sampler(SamplingParams.greedy(10));

        assertThat(sampler.next(new float[] {0.1f, 2f, 1.9f, -1f}, NO_HISTORY, 0)).isEqualTo(1);
        assertThat(sampler.next(new float[] {-1f, 3f, 0f, 3f}, NO_HISTORY, 0)).isEqualTo(1);
        assertThat(sampler.next(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}, NO_HISTORY, 0)).isZero();
    }

    @Test
    void argmaxAndNaNChecksCoverEveryLaneAndTheTail() {
        Sampler sampler = new Sampler(SamplingParams.greedy(10));
        for (int vocab = 1; vocab <= 40; vocab++) {
            for (int at = 0; at < vocab; at++) {
                float[] logits = new float[vocab];
                Arrays.fill(logits, -1f);
                logits[at] = 5f;
                if (at + 7 < vocab) {
                    logits[at + 7] = 5f;
                }
                assertThat(sampler.next(logits, NO_HISTORY, 0)).isEqualTo(at);
                logits[at] = Float.NaN;
                int nan = at;
                assertThatThrownBy(() -> sampler.next(logits, NO_HISTORY, 0))
                        .isInstanceOf(IllegalArgumentException.class).hasMessage("logit of token " + nan + " is NaN");
            }
        }
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        Sampler sampler = new Sampler(SamplingParams.greedy(10).withRepetitionPenalty(1.5));

        // 2.0 / 1.5 = 1.33 falls below 1.9.
        assertThat(sampler.next(new float[] {2.0f, 1.9f, -1f}, new int[] {0}, 1)).isEqualTo(1);
        // -0.5 * 1.5 = -0.75 falls below -0.6.
        assertThat(sampler.next(new float[] {-0.5f, -0.6f}, new int[] {0}, 1)).isEqualTo(1);
        // Only historyLength entries count.
        assertThat(sampler.next(new float[] {2.0f, 1.9f, -1f}, new int[] {2, 0}, 1)).isZero();
    }

    @Test
    void repetitionPenaltyAppliesOncePerDistinctToken() {
        Sampler sampler = new Sampler(SamplingParams.greedy(10).withRepetitionPenalty(1.2));

        // Once: 2.0 / 1.2 = 1.67 stays above 1.6; three times it would be 1.16.
        assertThat(sampler.next(new float[] {2.0f, 1.6f}, new int[] {0, 0, 0}, 3)).isZero();
    }

    @Test
    void callersLogitsAreLeftAlone() {
        float[] logits = {2.0f, 1.9f, -1f};
        float[] copy = logits.clone();
        Sampler sampler = new Sampler(SamplingParams.sample(10).withRepetitionPenalty(1.3).withTopK(2).withTopP(0.5)
                .withMinP(0.1).withTemperature(0.7));

        sampler.next(logits, new int[] {0, 2}, 2);

        assertThat(logits).containsExactly(copy);
    }

    @Test
    void topKOfOneIsGreedyAtAnyTemperature() {
        float[] logits = randomLogits(5000, 1);
        for (double temperature : new double[] {0.3, 1, 5, 100}) {
            Sampler sampler = new Sampler(SamplingParams.sample(10).withTopK(1).withTemperature(temperature).withSeed(7));
            for (int i = 0; i < 50; i++) {
                assertThat(sampler.next(logits, NO_HISTORY, 0)).isEqualTo(argmax(logits));
            }
        }
    }

    @Test
    void topKKeepsTiesWithTheKthLogitAsTransformersDoes() {
        int[] counts = counts(SamplingParams.sample(10).withTopK(2), new float[] {3f, 2f, 2f, 1.9f}, 20_000);

        assertThat(counts[3]).isZero();
        assertThat(counts[1]).isPositive();
        assertThat(counts[2]).isPositive();
    }

    @Test
    void topPKeepsTheMinimalNucleus() {
        float[] logits = logitsOf(0.5, 0.3, 0.1, 0.05, 0.05);

        int[] two = counts(SamplingParams.sample(10).withTopP(0.75), logits, 20_000);
        assertThat(two[2] + two[3] + two[4]).isZero();
        assertThat(two[0] / 20_000.0).isCloseTo(0.5 / 0.8, within(0.02));

        int[] three = counts(SamplingParams.sample(10).withTopP(0.85), logits, 20_000);
        assertThat(three[3] + three[4]).isZero();
        assertThat(three[2] / 20_000.0).isCloseTo(0.1 / 0.9, within(0.02));

        int[] one = counts(SamplingParams.sample(10).withTopP(0.4), logits, 1_000);
        assertThat(one[0]).isEqualTo(1_000);
    }

    @Test
    void topPRenormalizesOverWhatTopKLeft() {
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.1);

        // Over all tokens 0.4 < 0.5 lets token 1 in; over the top 2 token 0 has 0.57 alone.
        assertThat(counts(SamplingParams.sample(10).withTopP(0.5), logits, 5_000)[1]).isPositive();
        assertThat(counts(SamplingParams.sample(10).withTopK(2).withTopP(0.5), logits, 5_000)[0]).isEqualTo(5_000);
    }

    @Test
    void topPOnALargeVocabularyMatchesAFullSort() {
        // 1000 likely tokens, 19000 unlikely ones that hold about 1% of the probability.
        int vocab = 20_000;
        float[] logits = new float[vocab];
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < vocab; i++) {
            logits[i] = i < 1000 ? (float) random.nextDouble(-1, 0) : -8f;
        }
        for (double topP : new double[] {0.5, 0.98, 0.999}) {
            Set<Integer> nucleus = referenceNucleus(logits, 1.0, topP);
            int[] counts = counts(SamplingParams.sample(10).withTopP(topP).withSeed(11), logits, 6_000);
            for (int token = 0; token < vocab; token++) {
                if (!nucleus.contains(token)) {
                    assertThat(counts[token]).as("token %d outside the top-p %s nucleus", token, topP).isZero();
                }
            }
        }
    }

    /** Top-p by the definition, with a full sort. */
    private static Set<Integer> referenceNucleus(float[] logits, double temperature, double topP) {
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp(logits[i] / temperature);
            sum += p[i];
        }
        List<Integer> order = new ArrayList<>(IntStream.range(0, logits.length).boxed().toList());
        order.sort(Comparator.comparingDouble((Integer i) -> -p[i]).thenComparing(i -> i));
        Set<Integer> kept = new HashSet<>();
        double before = 0;
        for (int token : order) {
            if (before >= topP * sum) {
                break;
            }
            kept.add(token);
            before += p[token];
        }
        return kept;
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);

        int[] counts = counts(SamplingParams.sample(10).withMinP(0.2), logits, 20_000);
        assertThat(counts[3]).isZero();
        assertThat(counts[2]).isPositive();

        int[] strict = counts(SamplingParams.sample(10).withMinP(0.5), logits, 20_000);
        assertThat(strict[2] + strict[3]).isZero();
        assertThat(strict[1]).isPositive();
    }

    @Test
    void frequenciesFollowTheTemperedSoftmax() {
        float[] logits = {1.0f, 0.5f, -0.5f};
        int draws = 60_000;
        for (double temperature : new double[] {0.7, 2.0}) {
            double[] expected = new double[3];
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                expected[i] = Math.exp(logits[i] / temperature);
                sum += expected[i];
            }
            int[] counts = counts(SamplingParams.sample(10).withTemperature(temperature).withSeed(5), logits, draws);
            for (int i = 0; i < 3; i++) {
                // Five standard deviations or less.
                assertThat(counts[i] / (double) draws).isCloseTo(expected[i] / sum, within(0.01));
            }
        }
    }

    @Test
    void theSeedMakesRunsReproducible() {
        float[] logits = randomLogits(1000, 2);
        SamplingParams params = SamplingParams.sample(10).withTemperature(1.5).withTopP(0.95);

        assertThat(draws(params.withSeed(42), logits)).isEqualTo(draws(params.withSeed(42), logits));
        assertThat(draws(params.withSeed(42), logits)).isNotEqualTo(draws(params.withSeed(43), logits));
    }

    private static int[] draws(SamplingParams params, float[] logits) {
        Sampler sampler = new Sampler(params);
        return IntStream.range(0, 100).map(i -> sampler.next(logits, NO_HISTORY, 0)).toArray();
    }

    @Test
    void badInputsAreRejected() {
        Sampler sampler = new Sampler(SamplingParams.sample(10).withRepetitionPenalty(1.1));

        assertThatThrownBy(() -> sampler.next(new float[] {1f, Float.NaN}, NO_HISTORY, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
        assertThatThrownBy(() -> sampler.next(new float[] {1f, 2f}, new int[] {5}, 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outside the vocabulary");
        assertThatThrownBy(() -> sampler.next(new float[] {1f, 2f}, new int[] {1}, 2))
                .isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void aFullVocabularyWithSmallTopKDrawsFromTheTopK() {
        float[] logits = randomLogits(128_256, 4);
        Sampler sampler = new Sampler(SamplingParams.sample(10).withTopK(40).withTopP(0.9).withTemperature(0.8));
        Set<Integer> top40 = new HashSet<>();
        Integer[] ids = IntStream.range(0, logits.length).boxed().toArray(Integer[]::new);
        Arrays.sort(ids, Comparator.comparingDouble((Integer i) -> -logits[i]));
        top40.addAll(Arrays.asList(ids).subList(0, 40));

        for (int i = 0; i < 2_000; i++) {
            assertThat(top40).contains(sampler.next(logits, NO_HISTORY, 0));
        }
    }
}
