package io.spillway.engine.model;

import io.spillway.engine.CheckpointException;
import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.testing.SafetensorsWriter;
import io.spillway.engine.testing.TinyLlama;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;


import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Checkpoint layouts real users have, built from the tiny model, and the errors broken ones give. */
class CheckpointTest {
    private static final int[] PROMPT = {0, 39, 420, 514, 335, 965, 3091, 368};
    private static float[] bf16Logits;

    @BeforeAll
    static void reference() {
        bf16Logits = logits(TinyLlama.modelDir());
    }

    private static float[] logits(Path dir) {
        try (LlamaModel m = LlamaModel.load(dir); KvCache c = m.newCache(DenseKvCache.Precision.F32)) {
            return m.forward(List.of(new LlamaModel.Step(c, PROMPT, false)))[0];
        }
    }

    /** A copy of the tiny model's config with the weights re-written by {@code writer}. */
    private static Path copyConfig(Path dir) throws IOException {
        Files.copy(TinyLlama.modelDir().resolve("config.json"), dir.resolve("config.json"));
        return dir;
    }

    private static List<Tensor> tinyTensors(Checkpoint c) {
        List<Tensor> all = new ArrayList<>();
        c.find("model.embed_tokens.weight").ifPresent(all::add);
        c.find("model.norm.weight").ifPresent(all::add);
        for (int l = 0; l < 6; l++) {
            for (String n : List.of("input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
                    "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")) {
                String name = "model.layers." + l + "." + n + ".weight";
                all.add(c.find(name).orElseThrow());
            }
        }
        return all;
    }

    @Test
    void fp32CopyGivesTheSameLogits(@TempDir Path dir) throws IOException {
        try (Checkpoint c = Checkpoint.open(TinyLlama.modelDir())) {
            SafetensorsWriter w = new SafetensorsWriter();
            tinyTensors(c).forEach(w::add);
            w.write(copyConfig(dir).resolve("model.safetensors"), DType.F32);
        }
        // Equal up to summation order: the JIT's vectorized reductions differ from the interpreter's.
        float[] fp32 = logits(dir);
        for (int i = 0; i < fp32.length; i++) {
            assertThat(fp32[i]).isCloseTo(bf16Logits[i], within(1e-4f));
        }
    }

    @Test
    void shardedFp16CopyLoadsThroughTheIndex(@TempDir Path dir) throws IOException {
        copyConfig(dir);
        StringBuilder map = new StringBuilder();
        try (Checkpoint c = Checkpoint.open(TinyLlama.modelDir())) {
            List<Tensor> all = tinyTensors(c);
            SafetensorsWriter first = new SafetensorsWriter();
            SafetensorsWriter second = new SafetensorsWriter();
            for (int i = 0; i < all.size(); i++) {
                String shard = i < all.size() / 2 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
                (i < all.size() / 2 ? first : second).add(all.get(i));
                map.append(map.isEmpty() ? "" : ",").append('"').append(all.get(i).name()).append("\":\"").append(shard).append('"');
            }
            first.write(dir.resolve("model-00001-of-00002.safetensors"), DType.F16);
            second.write(dir.resolve("model-00002-of-00002.safetensors"), DType.F16);
        }
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{},\"weight_map\":{" + map + "}}");
        float[] fp16 = logits(dir);
        for (int i = 0; i < fp16.length; i++) {
            assertThat(fp16[i]).isCloseTo(bf16Logits[i], within(0.05f));
        }
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model-00002-of-00002.safetensors").hasMessageContaining("not found");
    }

    @Test
    void qkvBiasesAreAppliedWhenPresent(@TempDir Path dir) throws IOException {
        copyConfig(dir);
        try (Checkpoint c = Checkpoint.open(TinyLlama.modelDir())) {
            SafetensorsWriter w = new SafetensorsWriter();
            tinyTensors(c).forEach(w::add);
            for (int l = 0; l < 6; l++) {
                w.add("model.layers." + l + ".self_attn.q_proj.bias", new long[] {512}, new float[512]);
                w.add("model.layers." + l + ".self_attn.k_proj.bias", new long[] {256}, new float[256]);
                float[] v = new float[256];
                java.util.Arrays.fill(v, l == 0 ? 0.5f : 0f);
                w.add("model.layers." + l + ".self_attn.v_proj.bias", new long[] {256}, v);
            }
            w.write(dir.resolve("model.safetensors"), DType.BF16);
        }
        float[] biased = logits(dir);
        assertThat(biased).isNotEqualTo(bf16Logits);
        assertThat(biased[16]).isCloseTo(bf16Logits[16], within(5f));
    }

    @Test
    void truncatedFileNamesTheFileAndTensor(@TempDir Path dir) throws IOException {
        copyConfig(dir);
        Path file = dir.resolve("model.safetensors");
        Files.copy(TinyLlama.modelDir().resolve("model.safetensors"), file);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(raf.length() - 4096);
        }
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("truncated").hasMessageContaining("data_offsets");
    }

    @Test
    void unsupportedDtypeNamesTheTensor(@TempDir Path dir) throws IOException {
        Path file = copyConfig(dir).resolve("model.safetensors");
        writeRaw(file, "{\"model.embed_tokens.weight\":{\"dtype\":\"I8\",\"shape\":[2,2],\"data_offsets\":[0,4]}}", 4);
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.embed_tokens.weight.dtype").hasMessageContaining("I8");
    }

    @Test
    void garbageHeaderIsRefused(@TempDir Path dir) throws IOException {
        Path file = copyConfig(dir).resolve("model.safetensors");
        Files.write(file, "this is not a safetensors file at all".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("header length");
        Files.write(file, new byte[3]);
        assertThatThrownBy(() -> LlamaModel.load(dir)).hasMessageContaining("too short");
        writeRaw(file, "{not json", 0);
        assertThatThrownBy(() -> LlamaModel.load(dir)).hasMessageContaining("malformed JSON");
    }

    @Test
    void missingTensorAndWrongShapeAreNamed(@TempDir Path dir) throws IOException {
        Path file = copyConfig(dir).resolve("model.safetensors");
        new SafetensorsWriter().add("model.embed_tokens.weight", new long[] {8192, 4}, new float[8192 * 4]).write(file, DType.F32);
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.embed_tokens.weight.shape").hasMessageContaining("[8192, 512]");
        new SafetensorsWriter().add("model.embed_tokens.weight", new long[] {8192, 512}, new float[8192 * 512]).write(file, DType.F32);
        assertThatThrownBy(() -> LlamaModel.load(dir)).hasMessageContaining("model.layers.0.input_layernorm.weight")
                .hasMessageContaining("missing");
    }

    @Test
    void missingWeightsAndMissingDirectoryAreNamed(@TempDir Path dir) throws IOException {
        copyConfig(dir);
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("model.safetensors").hasMessageContaining("not found");
        assertThatThrownBy(() -> LlamaModel.load(dir.resolve("nope"))).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("config.json");
    }

    @Test
    void untiedConfigWithoutLmHeadIsRefused(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("config.json"),
                Files.readString(TinyLlama.modelDir().resolve("config.json")).replace("\"tie_word_embeddings\": true", "\"tie_word_embeddings\": false"));
        Files.copy(TinyLlama.modelDir().resolve("model.safetensors"), dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> LlamaModel.load(dir)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("tie_word_embeddings").hasMessageContaining("lm_head.weight");
    }

    private static void writeRaw(Path file, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(json.length).put(json);
        Files.write(file, b.array());
    }

}
