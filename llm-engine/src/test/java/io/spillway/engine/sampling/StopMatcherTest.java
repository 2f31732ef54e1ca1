package io.spillway.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StopMatcherTest {

    private static StopMatcher.Result more(String text) {
        return new StopMatcher.Result(text, Optional.empty());
    }

    private static StopMatcher.Result stop(String text, String stop) {
        return new StopMatcher.Result(text, Optional.of(stop));
    }

    @Test
    void stopStringSplitAcrossChunksIsHeldBackThenDropped() {
        StopMatcher m = new StopMatcher(List.of("</answer>"));

        assertThat(m.append("The answer is 4.</")).isEqualTo(more("The answer is 4."));
        assertThat(m.append("ans")).isEqualTo(more(""));
        assertThat(m.append("wer> trailing")).isEqualTo(stop("", "</answer>"));
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void heldTextIsReleasedWhenItStopsLookingLikeAStop() {
        StopMatcher m = new StopMatcher(List.of("</answer>"));

        assertThat(m.append("a </an")).isEqualTo(more("a "));
        assertThat(m.append("d more")).isEqualTo(more("</and more"));
        assertThat(m.append(" <")).isEqualTo(more(" "));
        assertThat(m.flush()).isEqualTo("<");
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void overlappingPrefixes() {
        StopMatcher whole = new StopMatcher(List.of("ab"));
        assertThat(whole.append("aab")).isEqualTo(stop("a", "ab"));

        StopMatcher streamed = new StopMatcher(List.of("ab"));
        assertThat(streamed.append("a")).isEqualTo(more(""));
        assertThat(streamed.append("a")).isEqualTo(more("a"));
        assertThat(streamed.append("b")).isEqualTo(stop("", "ab"));
    }

    @Test
    void theEarliestOfSeveralStopStringsWins() {
        StopMatcher m = new StopMatcher(List.of("STOP", "\n\n", "END"));

        assertThat(m.append("one\n")).isEqualTo(more("one"));
        assertThat(m.append("\ntwo END")).isEqualTo(stop("", "\n\n"));
    }

    @Test
    void longestPossibleStartIsHeldAcrossStopStrings() {
        StopMatcher m = new StopMatcher(List.of("xyz", "yq"));

        // "xy" may start "xyz" and "y" may start "yq": the longer tail is held.
        assertThat(m.append("axy")).isEqualTo(more("a"));
        assertThat(m.append("q")).isEqualTo(stop("x", "yq"));
    }

    @Test
    void withoutStopStringsEverythingPassesThrough() {
        StopMatcher m = new StopMatcher(List.of());

        assertThat(m.append("abc")).isEqualTo(more("abc"));
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void nothingIsAcceptedAfterAStop() {
        StopMatcher m = new StopMatcher(List.of("."));
        assertThat(m.append("Done. More").stopped()).isTrue();

        assertThatThrownBy(() -> m.append("x")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new StopMatcher(List.of(""))).isInstanceOf(IllegalArgumentException.class);
    }
}
