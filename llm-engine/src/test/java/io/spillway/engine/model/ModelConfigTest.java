package io.spillway.engine.model;

import io.spillway.engine.CheckpointException;
import io.spillway.engine.testing.TinyLlama;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelConfigTest {
    private static final Path FILE = Path.of("config.json");
    private static final String BASE = """
            "architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "intermediate_size": 14336,
            "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 128256,
            "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "bos_token_id": 128000,
            "eos_token_id": [128001, 128008, 128009]""";

    private static ModelConfig parse(String json) {
        return ModelConfig.parse(FILE, Json.parse(FILE, json));
    }

    @Test
    void readsTransformers5RopeParameters() {
        ModelConfig c = ModelConfig.load(TinyLlama.modelDir());
        assertThat(c.rope()).isEqualTo(RopeConfig.plain(10000.0));
        assertThat(c.numKvHeads()).isEqualTo(2);
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.bosTokenId()).isZero();
    }

    @Test
    void readsLlama31TopLevelThetaAndLlama3Scaling() {
        ModelConfig c = parse("{" + BASE + """
                , "rope_theta": 500000.0, "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0,
                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}}""");
        assertThat(c.rope()).isEqualTo(new RopeConfig(500000.0, "llama3", 8.0, 1.0, 4.0, 8192));
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.eosTokenId()).isEqualTo(128001);
        assertThat(c.tieWordEmbeddings()).isFalse();
    }

    @Test
    void readsOldStyleLinearScalingWithTypeKey() {
        ModelConfig c = parse("{" + BASE + ", \"rope_theta\": 10000, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}}");
        assertThat(c.rope().type()).isEqualTo("linear");
        assertThat(c.rope().factor()).isEqualTo(2.0);
    }

    @Test
    void nullRopeScalingIsPlainRope() {
        assertThat(parse("{" + BASE + ", \"rope_theta\": 1000000.0, \"rope_scaling\": null}").rope())
                .isEqualTo(RopeConfig.plain(1000000.0));
    }

    @Test
    void unsupportedRopeTypeNamesTheField() {
        assertThatThrownBy(() -> parse("{" + BASE + ", \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("config.json").hasMessageContaining("rope_scaling.rope_type").hasMessageContaining("yarn");
    }

    @Test
    void unsupportedArchitectureIsNamed() {
        assertThatThrownBy(() -> parse("{" + BASE.replace("LlamaForCausalLM", "GPT2LMHeadModel") + "}"))
                .isInstanceOf(CheckpointException.class)
                .hasMessageContaining("architectures").hasMessageContaining("GPT2LMHeadModel");
    }

    @Test
    void missingAndMistypedFieldsAreNamed() {
        assertThatThrownBy(() -> parse("{" + BASE.replace("\"hidden_size\": 4096,", "") + "}"))
                .hasMessageContaining("'hidden_size'").hasMessageContaining("missing");
        assertThatThrownBy(() -> parse("{" + BASE.replace("\"hidden_size\": 4096", "\"hidden_size\": \"big\"") + "}"))
                .hasMessageContaining("'hidden_size'").hasMessageContaining("integer");
        assertThatThrownBy(() -> parse("{" + BASE.replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5") + "}"))
                .hasMessageContaining("num_key_value_heads");
        assertThatThrownBy(() -> parse("{" + BASE + ", \"hidden_act\": \"gelu\"}")).hasMessageContaining("hidden_act");
    }

    @Test
    void malformedJsonGivesLineAndColumn() {
        assertThatThrownBy(() -> parse("{\"architectures\": [\"LlamaForCausalLM\"],\n \"hidden_size\": }"))
                .isInstanceOf(CheckpointException.class).hasMessageContaining("config.json").hasMessageContaining("line 2");
    }

    @Test
    void missingFileIsNamed(@org.junit.jupiter.api.io.TempDir Path dir) {
        assertThatThrownBy(() -> ModelConfig.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("config.json").toString()).hasMessageContaining("not found");
    }
}
