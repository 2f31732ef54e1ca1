package io.spillway.engine.cli;

import io.spillway.engine.eval.Documents;
import io.spillway.engine.kv.CapturingKvCache;
import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.engine.kv.QuantizedKvCache;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.Calibrator;
import io.spillway.kvquant.KvMethod;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code calibrate}: runs sample text through the model, collects pre-RoPE keys and writes RotateKV's
 * per-layer channel order next to the model ({@value Calibration#FILE_NAME} for the default method's
 * rotation size, {@code spillway-kv-calibration-rN.txt} for another size N).
 */
final class CalibrateCommand {
    private static final String HELP = """
            usage: bin/spillway calibrate --data FILE [options]
              --model DIR         Hugging Face model directory (default: models/tiny-llama)
              --data FILE         JSON list of documents: the calibration text
              --windows N         windows of --window tokens to run (default 16)
              --window N          tokens per window (default 512)
              --method SPEC       the RotateKV method whose rotation and groups to calibrate for (default rotatekv2)
              --out FILE          where to write (default: MODEL/%s for rotatekv2's rotation size,
                                  MODEL/spillway-kv-calibration-rN.txt for another size N, read by methods of that size)
            """.formatted(Calibration.FILE_NAME);

    int run(String[] argv, PrintStream out, PrintStream err) {
        Args a = Args.parse("calibrate", argv, 0, Set.of("model", "data", "windows", "window", "method", "out"), Set.of("help"));
        if (a.has("help")) {
            out.print(HELP);
            return 0;
        }
        if (!a.has("data")) {
            throw new UsageException("calibrate: --data FILE is required\n" + HELP);
        }
        Path modelDir = a.path("model", SpillwayCli.defaultModel());
        KvMethod method = KvMethod.parse(a.string("method", "rotatekv2"));
        if (!method.quantized()) {
            throw new UsageException("calibrate: " + method.name() + " has nothing to calibrate");
        }
        int windows = a.integer("windows", 16);
        int window = a.integer("window", 512);
        try (LlamaModel model = LlamaModel.load(modelDir)) {
            var c = model.config();
            int[] stream = Documents.tokenStream(Documents.read(a.path("data", null)), Tokenizer.load(modelDir), c.bosTokenId(), c.eosTokenId());
            int rotationSize = QuantizedKvCache.keyRotationSize(method, model.kvLayout());
            int group = method.keys().groupSize() == 0 ? c.headDim() : method.keys().groupSize();
            Calibrator calibrator = new Calibrator(c.numLayers(), c.kvDim(), rotationSize, group);
            ProgressBar bar = new ProgressBar(err, "calibrate");
            int total = Math.min(windows, Math.max(1, stream.length / window));
            for (int w = 0; w < total; w++) {
                int[] tokens = Arrays.copyOfRange(stream, w * window, Math.min(stream.length, (w + 1) * window));
                try (KvCache cache = new CapturingKvCache(model.newCache(DenseKvCache.Precision.F32), calibrator)) {
                    model.forward(List.of(new LlamaModel.Step(cache, tokens, false)));
                }
                bar.update(w + 1, total, "");
            }
            Calibration calibration = calibrator.finish(model.fingerprint());
            // The default method's rotation size keeps the directory's default file; others get their own.
            boolean defaultSize = rotationSize == QuantizedKvCache.keyRotationSize(KvMethod.preset("rotatekv2"), model.kvLayout());
            Path file = a.path("out", modelDir.resolve(defaultSize ? Calibration.FILE_NAME : Calibration.fileName(rotationSize)));
            calibration.write(file);
            List<String> chosen = new ArrayList<>();
            calibration.orderings().forEach(o -> chosen.add(o.name().toLowerCase()));
            out.printf("calibration=%s file=%s orderings=%s%n", calibration.id(), file, String.join(",", chosen));
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return 0;
    }
}
