package io.spillway.engine.chat;

import static io.spillway.engine.chat.ChatMessage.assistant;
import static io.spillway.engine.chat.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Python semantics that HF templates rely on, and Jinjava's failures where it lacks them. */
class PythonInTemplatesTest {

    /** Renders {@code expression} with {@code s} bound to {@code value}. */
    private static String eval(String expression, String value) {
        return ChatTemplate.of("{% set s = messages[0].content %}{{ " + expression + " }}", "", "")
                .render(List.of(user(value)), false);
    }

    @ParameterizedTest
    @CsvSource(delimiterString = "=>", value = {
            "s.strip()                    => ' \t a b \n'  => a b",
            "s.lstrip()                   => '  a  '       => 'a  '",
            "s.rstrip()                   => '  a  '       => '  a'",
            "s.strip(\"xy\")                => xyaxbyx       => axb",
            "s.rstrip(\"\\n\")              => 'a\n\n'       => a",
            "s.startswith(\"<tool\")        => <tool_call>   => true",
            "s.startswith(\"tool\")         => <tool_call>   => false",
            "s.endswith(\">\")              => <tool_call>   => true",
            "s.startswith((\"x\", \"<\"))   => <tool_call>   => true",
            "s.upper()                    => straße        => STRASSE",
            "s.lower()                    => ÀB            => àb",
            "s.title()                    => hello wORLD 1st => Hello World 1St",
            "s.capitalize()               => hELLO wORLD   => Hello world",
            "s.replace(\"a\", \"o\")        => banana        => bonono",
            "s.replace(\"a\", \"o\", 2)     => banana        => bonona",
            "s.replace(\"\", \"-\")         => ab            => -a-b-",
            "s.replace(\"\", \"-\", 2)      => abc           => -a-bc",
            "s.split(\".\")                 => a.b..c        => '[a, b, , c]'",
            "s.split(\".\", 1)              => a.b.c         => '[a, b.c]'",
            "s.split()                    => '  a  b\tc  ' => '[a, b, c]'",
            "s.split(none, 1)             => '  a  b c  '  => '[a, b c  ]'",
            "s.split(\"</think>\")[-1].lstrip(\"\\n\") => '<think>r</think>\n\nans' => ans",
            "s.split(\"</think>\")[0]       => r</think>a    => r",
            "\"-\".join(s.split(\",\"))       => a,b,c         => a-b-c",
            "s.find(\"b\")                  => abc           => 1",
            "s.find(\"z\")                  => abc           => -1",
            "s.count(\"a\")                 => banana        => 3",
            "s[0] ~ s[-1]                 => abc           => ac",
            "s[1:]                        => abc           => bc",
            "\"x\" in s                     => axb           => true",
            "s | trim                     => ' a '         => a",
    })
    void pythonStringMethods(String expression, String value, String expected) {
        assertThat(eval(expression, value)).isEqualTo(expected);
    }

    @Test
    void javaStringMethodsStillResolve() {
        assertThat(eval("s.startsWith('a') ~ s.length()", "abc")).isEqualTo("true3");
    }

    @Test
    void pythonEscapesInStringLiterals() {
        ChatTemplate template = ChatTemplate.of("{{ 'a\\nb\\tc' }}|{{ \"q\\\"\" }}|{{ 'it\\'s' }}|{{ '\\u2581\\x41' }}"
                + "|{{ 'back\\\\n' }}|{{ '\\d' }}|{{ '\\N{BULLET}\\101' }}|\\n{# '\\n' #}{% raw %}{{ '\\n' }}{% endraw %}", "", "");

        assertThat(template.render(List.of(user("q")), false))
                .isEqualTo("a\nb\tc|q\"|it's|\u2581A|back\\n|\\d|\u2022A|\\n{{ '\\n' }}");
    }

    @Test
    void tojsonWritesPythonJson() {
        ChatTemplate template = ChatTemplate.of("{{ messages[0] | tojson }}|{{ {'a': [1, 2.5, true, none]} | tojson(indent=2) }}"
                + "|{{ {'b': 1, 'a': 'é'} | tojson(sort_keys=true, ensure_ascii=true) }}", "", "");

        assertThat(template.render(List.of(user("say \"hi\"\n")), false)).isEqualTo(
                "{\"role\": \"user\", \"content\": \"say \\\"hi\\\"\\n\"}|{\n  \"a\": [\n    1,\n    2.5,\n    true,\n    null\n  ]\n}"
                        + "|{\"a\": \"\\u00e9\", \"b\": 1}");
    }

    @ParameterizedTest
    @CsvSource({"1.5, 1.5", "100.0, 100.0", "1e16, 1e+16", "1.25e20, 1.25e+20", "0.0001, 0.0001", "0.00001, 1e-05",
            "-2.5e-7, -2.5e-07", "123456.789, 123456.789"})
    void floatsAreWrittenAsPythonReprDoes(double value, String expected) {
        assertThat(PythonJsonFilter.pythonFloat(value)).isEqualTo(expected);
    }

    @Test
    void unknownFiltersTestsFunctionsAndMethodsFailAtLoad() {
        assertThatThrownBy(() -> ChatTemplate.of("{{ messages[0].content | shout }}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown filter 'shout'");
        assertThatThrownBy(() -> ChatTemplate.of("{% if messages is shouting %}x{% endif %}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown test 'shouting'");
        assertThatThrownBy(() -> ChatTemplate.of("{{ shout('x') }}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'shout'");
        assertThatThrownBy(() -> ChatTemplate.of("{{ messages[0].content.zfill(3) }}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("zfill");
        assertThatThrownBy(() -> ChatTemplate.of("{{ messages[0].content.upper(1) }}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("str.upper() takes no arguments");
    }

    @Test
    void syntaxErrorsInBranchesNotTakenFailAtLoadWithTheirLine() {
        assertThatThrownBy(() -> ChatTemplate.of("a\n{% if false %}{{ 'x' + }}\n{% endif %}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("chat template: line 2: ");
        assertThatThrownBy(() -> ChatTemplate.of("{% for m in messages %}{{ m.content }}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("endfor");
    }

    @Test
    void lineNumbersCountNewlinesInsideStringLiterals() {
        // Jinjava skips the newlines inside quotes when it counts lines.
        assertThatThrownBy(() -> ChatTemplate.of("{{ 'a\n\nb' }}\n{% if false %}{{ 'x' + }}{% endif %}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("chat template: line 4: ");
        assertThatThrownBy(() -> ChatTemplate.of("{{ 'a\\n\\nb' }}\n{% if false %}{{ 'x' + }}{% endif %}", "", ""))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("chat template: line 2: ");
    }

    @Test
    void failuresThatDependOnTheConversationSurfaceAtRender() {
        ChatTemplate template = ChatTemplate.of("{% for m in messages %}{% if m.content == 'split' %}"
                + "{{ m.content.split('') }}{% endif %}{% endfor %}", "", "");

        assertThat(template.render(List.of(user("a"), assistant("b")), false)).isEmpty();
        assertThatThrownBy(() -> template.render(List.of(user("split")), false))
                .isExactlyInstanceOf(IllegalStateException.class)
                .hasMessageContaining("chat template (inline): line 1: ")
                .hasMessageContaining("str.split(): empty separator");
    }
}
