package io.spillway.engine.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spillway.engine.CheckpointException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerationConfigTest {

    @TempDir
    Path dir;

    private void write(String file, String json) throws IOException {
        Files.writeString(dir.resolve(file), json);
    }

    @Test
    void tinyLlamaHasTokenIdsAndNoSamplingDefaults() {
        GenerationConfig config = GenerationConfig.load(Path.of("..", "models", "tiny-llama"));

        assertThat(config.eosTokenIds()).containsExactly(1);
        assertThat(config.bosTokenId()).hasValue(0);
        assertThat(config.isEos(1)).isTrue();
        assertThat(config.isEos(0)).isFalse();
        assertThat(config.temperature()).isEmpty();
        assertThat(config.doSample()).isEmpty();
        assertThat(config.applyTo(SamplingParams.greedy(5))).isEqualTo(SamplingParams.greedy(5));
    }

    @Test
    void llama3StyleListOfEosIdsAndSamplingDefaults() throws IOException {
        write("generation_config.json", """
                {"bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "do_sample": true,
                 "temperature": 0.6, "top_p": 0.9, "top_k": 20, "min_p": 0.05, "repetition_penalty": 1.1}""");

        GenerationConfig config = GenerationConfig.load(dir);

        assertThat(config).isEqualTo(new GenerationConfig(List.of(128001, 128008, 128009), OptionalInt.of(128000),
                OptionalDouble.of(0.6), OptionalInt.of(20), OptionalDouble.of(0.9), OptionalDouble.of(0.05),
                OptionalDouble.of(1.1), Optional.of(true)));
        assertThat(config.applyTo(SamplingParams.sample(64).withSeed(3))).isEqualTo(
                new SamplingParams(0.6, 20, 0.9, 0.05, 1.1, 3, 64, List.of()));
    }

    @Test
    void doSampleFalseMeansGreedy() throws IOException {
        write("generation_config.json", "{\"eos_token_id\": 2, \"do_sample\": false, \"temperature\": 0.7}");

        assertThat(GenerationConfig.load(dir).applyTo(SamplingParams.sample(8)).isGreedy()).isTrue();
    }

    @Test
    void tokenIdsFallBackToConfigJson() throws IOException {
        write("config.json", "{\"bos_token_id\": 1, \"eos_token_id\": [2, 32000], \"pad_token_id\": null}");
        assertThat(GenerationConfig.load(dir).eosTokenIds()).containsExactly(2, 32000);

        write("generation_config.json", "{\"temperature\": 0.5, \"eos_token_id\": null}");
        GenerationConfig config = GenerationConfig.load(dir);
        assertThat(config.eosTokenIds()).containsExactly(2, 32000);
        assertThat(config.bosTokenId()).hasValue(1);
        assertThat(config.temperature()).hasValue(0.5);
    }

    @Test
    void noFilesIsAnEmptyConfig() {
        GenerationConfig config = GenerationConfig.load(dir);

        assertThat(config.eosTokenIds()).isEmpty();
        assertThat(config.bosTokenId()).isEmpty();
    }

    @Test
    void malformedJsonNamesTheFile() throws IOException {
        write("generation_config.json", "{\"eos_token_id\": 2,,}");

        assertThatThrownBy(() -> GenerationConfig.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(dir.resolve("generation_config.json") + ": malformed JSON")
                .hasMessageContaining("line 1");
    }

    @Test
    void wrongFieldsNameFileAndField() throws IOException {
        write("generation_config.json", "{\"eos_token_id\": \"</s>\"}");
        assertThatThrownBy(() -> GenerationConfig.load(dir))
                .isInstanceOf(CheckpointException.class)
                .hasMessageStartingWith(dir.resolve("generation_config.json") + ": field 'eos_token_id': ");

        write("generation_config.json", "{\"eos_token_id\": [2, -1]}");
        assertThatThrownBy(() -> GenerationConfig.load(dir)).hasMessageContaining("field 'eos_token_id'");

        write("generation_config.json", "{\"top_p\": 1.5}");
        assertThatThrownBy(() -> GenerationConfig.load(dir)).hasMessageContaining("field 'top_p'");

        write("generation_config.json", "{\"top_k\": 2.5}");
        assertThatThrownBy(() -> GenerationConfig.load(dir)).hasMessageContaining("field 'top_k'");

        write("generation_config.json", "{\"do_sample\": \"yes\"}");
        assertThatThrownBy(() -> GenerationConfig.load(dir)).hasMessageContaining("field 'do_sample'");

        write("generation_config.json", "{}");
        write("config.json", "{\"eos_token_id\": {\"id\": 2}}");
        assertThatThrownBy(() -> GenerationConfig.load(dir))
                .hasMessageStartingWith(dir.resolve("config.json") + ": field 'eos_token_id': ");
    }
}
