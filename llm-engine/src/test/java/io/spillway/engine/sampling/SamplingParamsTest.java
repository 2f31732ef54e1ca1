package io.spillway.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    private static final SamplingParams BASE = SamplingParams.sample(16);

    private static void rejected(Supplier<SamplingParams> params, String message) {
        assertThatThrownBy(params::get).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void outOfRangeValuesAreRejectedWithTheRule() {
        rejected(() -> BASE.withTemperature(-0.1), "temperature must be >= 0");
        rejected(() -> BASE.withTemperature(Double.NaN), "temperature must be >= 0");
        rejected(() -> BASE.withTopK(-1), "topK must be >= 0");
        rejected(() -> BASE.withTopP(0), "topP must be in (0, 1]");
        rejected(() -> BASE.withTopP(1.01), "topP must be in (0, 1]");
        rejected(() -> BASE.withMinP(-0.01), "minP must be in [0, 1]");
        rejected(() -> BASE.withMinP(1.5), "minP must be in [0, 1]");
        rejected(() -> BASE.withRepetitionPenalty(0), "repetitionPenalty must be > 0");
        rejected(() -> BASE.withMaxTokens(0), "maxTokens must be >= 1, got 0");
        rejected(() -> BASE.withStop(List.of("ok", "")), "stop strings must not be empty");
    }

    @Test
    void boundaryValuesAreAccepted() {
        SamplingParams p = BASE.withTemperature(0).withTopK(0).withTopP(1).withMinP(1).withRepetitionPenalty(0.5).withMaxTokens(1);

        assertThat(p.isGreedy()).isTrue();
        assertThat(p.minP()).isEqualTo(1);
    }

    @Test
    void factoriesAndWithers() {
        assertThat(SamplingParams.greedy(8)).isEqualTo(new SamplingParams(0, 0, 1, 0, 1, 0, 8, List.of()));
        assertThat(SamplingParams.sample(8).isGreedy()).isFalse();
        assertThat(BASE.withSeed(9).withTopK(5).withTemperature(0.7))
                .isEqualTo(new SamplingParams(0.7, 5, 1, 0, 1, 9, 16, List.of()));
    }

    @Test
    void stopListIsCopied() {
        List<String> stops = new ArrayList<>(List.of("###"));
        SamplingParams p = BASE.withStop(stops);
        stops.add("!!!");

        assertThat(p.stop()).containsExactly("###");
        assertThatThrownBy(() -> p.stop().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }
}
