package io.spillway.embedded;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedOptionsTest {

    @Test
    void parsesOptionsAndRefusesBadOnes() {
        String model = EmbeddedSpillwayTest.model().toString();
        EmbeddedOptions o = EmbeddedOptions.parse(new String[] {"--port", "0", "--model", model, "--kv", "int4", "--api-key", "k"});
        assertThat(o.httpPort()).isZero();
        assertThat(o.kv()).isEqualTo("int4");
        assertThat(o.apiKey()).isEqualTo("k");
        assertThat(o.registryPort()).isEqualTo(8081);
        assertThatThrownBy(() -> EmbeddedOptions.parse(new String[] {"--port", "70000", "--model", model}))
                .hasMessageContaining("--port").hasMessageContaining("70000");
        assertThatThrownBy(() -> EmbeddedOptions.parse(new String[] {"--colour", "red"})).hasMessageContaining("unknown option --colour");
        assertThatThrownBy(() -> EmbeddedOptions.parse(new String[] {"--kv"})).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> EmbeddedOptions.parse(new String[] {"--model", "/no/such/model"})).hasMessageContaining("not a model directory");
        assertThat(EmbeddedOptions.parseOrHelp(new String[] {"--help"})).isEmpty();
    }
}
