package io.spillway.engine.cli;

import io.spillway.engine.testing.NoGpu;
import io.spillway.engine.testing.TinyLlama;
import io.spillway.kvquant.Calibration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SpillwayCliTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... argv) {
        return SpillwayCli.run(argv, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String stdout() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static String model() {
        return TinyLlama.modelDir().toString();
    }

    @Test
    void aGpuCommandWithoutAGpuSaysWhyInLinesNotAStackTrace() {
        NoGpu.assume("the failure");
        assertThat(run("gpu-bench", "--contexts", "1024", "--batches", "1")).isEqualTo(1);
        assertThat(stderr()).contains("gpu-bench: no usable CUDA GPU: ")
                .contains("spillway: error: gpu-bench: needs a usable CUDA GPU (see above)")
                .doesNotContain("\tat ");
        assertThat(run("reference", "--model", model(), "--backend", "cuda")).isEqualTo(1);
        assertThat(stderr()).contains("spillway: error: backend cuda: no usable CUDA GPU").doesNotContain("\tat ");
    }

    @Test
    void generateStreamsTheGreedyContinuation() {
        var p = TinyLlama.reference().get("prompts").get(0);
        assertThat(run("generate", "--model", model(), "--prompt", p.get("text").asText(), "--max-tokens", "32")).isZero();
        assertThat(stdout()).isEqualTo(p.get("greedy_text").asText() + System.lineSeparator());
        assertThat(stderr()).contains("finish=length").contains("completion_tokens=32");
    }

    @Test
    void generateRendersChatMessagesWithTheTemplate(@TempDir Path dir) throws IOException {
        Path messages = dir.resolve("m.json");
        Files.writeString(messages, "[{\"role\": \"system\", \"content\": \"Be brief.\"}, {\"role\": \"user\", \"content\": \"Hello\"}]");
        assertThat(run("generate", "--model", model(), "--messages", messages.toString(), "--max-tokens", "5",
                "--temperature", "0.7", "--seed", "1", "--kv", "rotatekv2")).isZero();
        assertThat(stderr()).contains("prompt_tokens=").containsPattern("completion_tokens=[1-5]");
    }

    @Test
    void pplPrintsAParsableLastLine(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("docs.json");
        Files.writeString(data, "[\"Call me Ishmael. Some years ago, never mind how long precisely.\", \"The whale.\"]");
        assertThat(run("ppl", "--model", model(), "--data", data.toString(), "--window", "16", "--kv", "kivi2", "--kv-mode", "all")).isZero();
        String[] lines = stdout().strip().split("\n");
        assertThat(lines[lines.length - 1]).matches("ppl=\\d+\\.\\d{4} tokens=\\d+");
        assertThat(stderr()).contains("bits_per_element=");
    }

    @Test
    void benchPrintsATable() {
        assertThat(run("bench", "--model", model(), "--batch", "1,2", "--prompt-tokens", "16", "--decode-tokens", "2", "--repeat", "1")).isZero();
        assertThat(stdout()).contains("prefill tok/s").containsPattern("(?m)^2\\s+16\\s+\\d");
    }

    @Test
    void calibrateWritesAFileTheCachesAccept(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("docs.json");
        Files.writeString(data, "[\"" + "It was the best of times, it was the worst of times. ".repeat(40) + "\"]");
        Path file = dir.resolve("cal.txt");
        assertThat(run("calibrate", "--model", model(), "--data", data.toString(), "--windows", "2", "--window", "128", "--out", file.toString())).isZero();
        assertThat(Files.readString(file)).startsWith("spillway-kv-calibration 1").contains("layer 5 ");
        assertThat(stdout()).startsWith("calibration=");
    }

    @Test
    void calibratingAnotherRotationSizeWritesItsOwnFileBesideTheDefault(@TempDir Path dir) throws IOException {
        Path copy = dir.resolve("model");
        Files.createDirectories(copy);
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", Calibration.FILE_NAME}) {
            Files.copy(TinyLlama.modelDir().resolve(f), copy.resolve(f));
        }
        Path data = dir.resolve("docs.json");
        Files.writeString(data, "[\"" + "It was the best of times, it was the worst of times. ".repeat(40) + "\"]");
        String perHead = "rotatekv2:prerope=off,rotation-heads=1";
        String[] ppl = {"ppl", "--model", copy.toString(), "--data", data.toString(), "--window", "64", "--limit", "1", "--kv", perHead};

        assertThat(run(ppl)).isNotZero();
        assertThat(stderr()).contains("rotation size 128").contains("recalibrate");
        assertThat(run("calibrate", "--model", copy.toString(), "--data", data.toString(), "--windows", "2", "--window", "128",
                "--method", perHead)).isZero();
        assertThat(copy.resolve("spillway-kv-calibration-r128.txt")).exists();
        assertThat(run(ppl)).isZero();
        assertThat(stdout()).contains("ppl=");
        // The default method still reads the directory's default file, untouched.
        assertThat(copy.resolve(Calibration.FILE_NAME)).hasSameBinaryContentAs(TinyLlama.modelDir().resolve(Calibration.FILE_NAME));
        assertThat(run("ppl", "--model", copy.toString(), "--data", data.toString(), "--window", "64", "--limit", "1", "--kv", "rotatekv2")).isZero();
    }

    @Test
    void brokenModelDirectoryIsOneLineNamingTheFile(@TempDir Path dir) throws IOException {
        assertThat(run("ppl", "--model", dir.toString(), "--data", TinyLlama.validationText().toString())).isEqualTo(1);
        assertThat(stderr().strip()).startsWith("spillway: error: ").contains("config.json").doesNotContain("\n").doesNotContain("Exception");
        err.reset();
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"BertModel\"]}");
        assertThat(run("generate", "--model", dir.toString(), "--prompt", "hi")).isEqualTo(1);
        assertThat(stderr().strip()).contains("architectures").contains("BertModel").doesNotContain("\tat ");
    }

    @Test
    void badCommandLinesExitWithTwo() {
        assertThat(run("generate", "--prompt", "x", "--colour", "red")).isEqualTo(2);
        assertThat(stderr()).contains("unknown option --colour");
        assertThat(run("ppl", "--data", "x.json", "--kv", "int3")).isEqualTo(2);
        assertThat(stderr()).contains("int3");
        assertThat(run("generate", "--model", model(), "--prompt", "x", "--top-p", "1.5")).isEqualTo(2);
        assertThat(stderr()).contains("top");
        assertThat(run("frobnicate")).isEqualTo(2);
        assertThat(run("generate", "--prompt", "a", "--chat", "b")).isEqualTo(2);
        // Refused before any GPU is looked for, so these hold on CI's machines too.
        assertThat(run("gpu-spill-bench", "--chunk", "0")).isEqualTo(2);
        assertThat(stderr()).contains("--chunk and --repeat must be positive");
        assertThat(run("gpu-spill-bench", "--kv", "fp16,kivi2")).isEqualTo(2);
        assertThat(stderr()).contains("--kv kivi2 cannot run on the GPU");
    }
}
