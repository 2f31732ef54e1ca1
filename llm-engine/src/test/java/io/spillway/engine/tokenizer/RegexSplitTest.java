package io.spillway.engine.tokenizer;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RegexSplitTest {

    private static final JsonField HERE = new JsonField(Path.of("tokenizer.json"), "pre_tokenizer.pattern.Regex", null);

    /** \s+(?!\S) leaves the last space of a run to the word after it. */
    @Test
    void gpt2PatternGivesTheLastSpaceToTheNextWord() {
        RegexSplit gpt2 = RegexSplit.isolated(OnigurumaRegex.compile(PreTokenizer.GPT2_PATTERN, HERE));
        assertThat(pieces(gpt2, "Hello  world")).containsExactly("Hello", " ", " world");
        assertThat(pieces(gpt2, "a\n\nb")).containsExactly("a", "\n", "\n", "b");
        assertThat(pieces(gpt2, "end  ")).containsExactly("end", "  ");
        assertThat(pieces(gpt2, "I'll go")).containsExactly("I", "'ll", " go");
        // Only an ASCII space joins the next word; were \s ASCII-only, U+3000 would count as punctuation.
        assertThat(pieces(gpt2, "x\u3000\u3000y")).containsExactly("x", "\u3000", "\u3000", "y");
    }

    /** The examples of HF's SplitDelimiterBehavior documentation. */
    @Test
    void delimiterBehaviorsFollowHf() {
        String text = "the-final--countdown";
        assertThat(pieces(split(RegexSplit.Behavior.REMOVED, false), text)).containsExactly("the", "final", "countdown");
        assertThat(pieces(split(RegexSplit.Behavior.ISOLATED, false), text))
                .containsExactly("the", "-", "final", "-", "-", "countdown");
        assertThat(pieces(split(RegexSplit.Behavior.MERGED_WITH_PREVIOUS, false), text))
                .containsExactly("the-", "final-", "-", "countdown");
        assertThat(pieces(split(RegexSplit.Behavior.MERGED_WITH_NEXT, false), text))
                .containsExactly("the", "-final", "-", "-countdown");
        assertThat(pieces(split(RegexSplit.Behavior.CONTIGUOUS, false), text))
                .containsExactly("the", "-", "final", "--", "countdown");
        assertThat(pieces(split(RegexSplit.Behavior.REMOVED, true), text)).containsExactly("-", "-", "-");
    }

    @Test
    void onigurumaOnlySyntaxIsRewritten() {
        assertThat(OnigurumaRegex.compile("\\p{^L}+", HERE).matcher("12ab").lookingAt()).isTrue();
        assertThat(OnigurumaRegex.compile("\\p{Han}+", HERE).matcher("漢字").matches()).isTrue();
        assertThat(OnigurumaRegex.compile("\\h+", HERE).matcher("09aF").matches()).isTrue();
        assertThat(OnigurumaRegex.compile("\\v", HERE).matcher("\n").matches()).isFalse();
        assertThat(OnigurumaRegex.compile(".", HERE).matcher("\r").matches()).as("only \\n ends a line").isTrue();
    }

    @Test
    void unsupportedSyntaxNamesTheField() {
        assertThatThrownBy(() -> OnigurumaRegex.compile("[[:alpha:]]", HERE))
                .hasMessageContaining("tokenizer.json").hasMessageContaining("pre_tokenizer.pattern.Regex");
        assertThatThrownBy(() -> OnigurumaRegex.compile("a\\Kb", HERE))
                .hasMessageContaining("pre_tokenizer.pattern.Regex");
    }

    private static RegexSplit split(RegexSplit.Behavior behavior, boolean invert) {
        return new RegexSplit(Pattern.compile("-"), behavior, invert);
    }

    private static List<String> pieces(PreTokenizer splitter, String text) {
        List<String> out = new ArrayList<>();
        splitter.split(text, out::add);
        return out;
    }
}
