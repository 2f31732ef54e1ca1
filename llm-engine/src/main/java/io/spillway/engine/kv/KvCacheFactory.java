package io.spillway.engine.kv;

import io.spillway.engine.runtime.LlamaModel;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.KvMethod;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * Makes the caches of one model for a KV method, by name ({@code fp32}, or a {@link KvMethod} spec
 * such as {@code rotatekv2} or {@code rotatekv2:sinks=0}), reading the model's calibration once.
 */
public final class KvCacheFactory implements Supplier<KvCache> {

    /** Whether quantized methods keep the newest block in fp16 ({@code DECODE}) or pack every token ({@code ALL}). */
    public enum Mode { ALL, DECODE }

    private final Supplier<KvCache> maker;
    private final String method;

    public KvCacheFactory(LlamaModel model, String method, Mode mode) {
        this.method = method;
        if (method.equals("fp32")) {
            maker = () -> model.newCache(DenseKvCache.Precision.F32);
        } else {
            KvMethod m = KvMethod.parse(method);
            if (!m.quantized()) {
                maker = () -> model.newCache(DenseKvCache.Precision.F16);
            } else {
                Calibration calibration = m.keys().reorder() ? calibration(model.dir(), model.fingerprint(), m, model.kvLayout()) : null;
                maker = () -> new QuantizedKvCache(model.kvLayout(), model.rope(), m, calibration, mode == Mode.DECODE);
                // Fail now, not at the first request, when the method does not fit the model.
                maker.get().close();
            }
        }
    }

    /** The calibration file of a model directory, checked against the model's fingerprint; null when absent. */
    public static Calibration calibration(LlamaModel model) {
        return calibration(model.dir(), model.fingerprint());
    }

    /**
     * The calibration {@code m} reads from a model directory: the file of its key rotation size when the
     * directory has one ({@link Calibration#fileName}), else the directory's default file; null when neither.
     */
    public static Calibration calibration(Path dir, String fingerprint, KvMethod m, KvLayout layout) {
        Path own = dir.resolve(Calibration.fileName(QuantizedKvCache.keyRotationSize(m, layout)));
        return Files.exists(own) ? read(own, fingerprint) : calibration(dir, fingerprint);
    }

    public static Calibration calibration(Path dir, String fingerprint) {
        Path file = dir.resolve(Calibration.FILE_NAME);
        return Files.exists(file) ? read(file, fingerprint) : null;
    }

    private static Calibration read(Path file, String fingerprint) {
        try {
            Calibration c = Calibration.read(file);
            if (!c.modelFingerprint().equals(fingerprint)) {
                throw new IllegalArgumentException(file + ": made for model " + c.modelFingerprint() + ", this model is "
                        + fingerprint + ": recalibrate with bin/spillway calibrate");
            }
            return c;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    public String method() {
        return method;
    }

    @Override
    public KvCache get() {
        return maker.get();
    }
}
