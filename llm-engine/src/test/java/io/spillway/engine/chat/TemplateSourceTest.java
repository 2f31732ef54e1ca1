package io.spillway.engine.chat;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TemplateSourceTest {

    @Test
    void lineBreaksAreNormalizedAndOneTrailingNewlineDropped() {
        assertThat(TemplateSource.of("a\r\nb\rc\n\n").text()).isEqualTo("a\nb\nc\n");
    }

    @Test
    void literalsAreDecodedAndWrittenBackWithElEscapes() {
        assertThat(TemplateSource.of("{{ 'a\\nb' ~ \"it\\'s\" ~ 'say \\\"x\\\"' ~ '\\\\' ~ '\\q' ~ 'don\\'t' }}").text())
                .isEqualTo("{{ 'a\nb' ~ \"it's\" ~ 'say \"x\"' ~ '\\\\' ~ '\\\\q' ~ 'don\\'t' }}");
    }

    @Test
    void textCommentsAndRawBlocksKeepTheirBackslashes() {
        String template = "a\\nb {# '\\n' #}{% raw %}{{ '\\n' }}{% endraw %}{% set x = '\\n' %}";

        assertThat(TemplateSource.of(template).text())
                .isEqualTo("a\\nb {# '\\n' #}{% raw %}{{ '\\n' }}{% endraw %}{% set x = '\n' %}");
    }

    @Test
    void quotesInsideLiteralsDoNotEndTheTag() {
        assertThat(TemplateSource.of("{{ '%}\\n' }}{{ \"}}\\t\" }}").text()).isEqualTo("{{ '%}\n' }}{{ \"}}\t\" }}");
    }

    @Test
    void linesJinjavaDoesNotCountAreMappedBack() {
        // Jinjava skips the newline that trim_blocks removes after a block tag and those in literals.
        TemplateSource source = TemplateSource.of("{% if x %}\n{{ y }}\n{{ 'a\n\nb' }}\n{{ z }}");

        assertThat(source.originalLines(1)).isEqualTo("lines 1-2");
        assertThat(source.originalLines(2)).isEqualTo("lines 3-5");
        assertThat(source.originalLines(3)).isEqualTo("line 6");
    }
}
