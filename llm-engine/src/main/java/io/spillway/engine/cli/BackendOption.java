package io.spillway.engine.cli;

import io.spillway.engine.cuda.CudaBackend;
import io.spillway.engine.cuda.CudaDevice;
import io.spillway.engine.cuda.CudaLlamaModel;
import io.spillway.engine.cuda.CudaRotateKv;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.KvMethod;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The {@code --backend cpu|cuda|auto} option: which device runs the forward pass. {@code auto} takes a
 * CUDA GPU where one is usable and the CPU otherwise, saying which and why on stderr.
 */
final class BackendOption {
    static final String HELP = """
            --backend B         cpu, cuda or auto (cuda where a GPU is usable, else cpu; default cpu).
                                  cuda keeps fp16 KV on the GPU (the default there) or, with --kv rotatekv2
                                  (and its 2-bit per-token overrides), packed 2-bit KV; auto runs other --kv on the CPU""";

    enum Kind { CPU, CUDA, AUTO }

    /** A loaded model and how to make caches for it. */
    record Loaded(Decoder model, String kv, Supplier<KvCache> caches) {
    }

    private BackendOption() {
    }

    static Kind check(String command, Args a) {
        String b = a.string("backend", "cpu");
        Kind kind = switch (b) {
            case "cpu" -> Kind.CPU;
            case "cuda" -> Kind.CUDA;
            case "auto" -> Kind.AUTO;
            default -> throw new UsageException(command + ": --backend must be cpu, cuda or auto, got '" + b + "'");
        };
        KvOption.check(command, a);
        if (kind == Kind.CUDA) {
            String why = gpuUnsupported(a);
            if (why != null) {
                throw new UsageException(command + ": --backend cuda cannot run --kv " + a.string("kv", "") + ": " + why);
            }
        }
        return kind;
    }

    /** Why --kv cannot run on the GPU, or null when it can (fp16, or a method the 2-bit kernels take). */
    private static String gpuUnsupported(Args a) {
        String kv = a.string("kv", "fp16");
        if (kv.equals("fp16")) {
            return null;
        }
        if (kv.equals("fp32")) {
            return "the GPU keeps fp16 or 2-bit KV";
        }
        return CudaRotateKv.unsupported(KvMethod.parse(kv));
    }

    /**
     * Loads the model on the chosen backend. {@code capacity} is the most tokens one cache holds (the
     * GPU caches are allocated whole).
     */
    static Loaded load(String command, Args a, Path modelDir, int capacity, PrintStream err) {
        Kind kind = check(command, a);
        Optional<CudaDevice> device = Optional.empty();
        if (kind != Kind.CPU) {
            device = CudaBackend.tryOpen(msg -> err.println(command + ": " + msg));
            if (device.isEmpty() && kind == Kind.CUDA) {
                throw new IllegalStateException(command + ": --backend cuda: no usable CUDA GPU (see above)");
            }
        }
        String why = gpuUnsupported(a);
        if (device.isPresent() && why == null) {
            CudaLlamaModel model = CudaLlamaModel.load(device.get(), modelDir);
            int cap = Math.min(capacity, model.config().maxPositions());
            String kv = a.string("kv", "fp16");
            if (kv.equals("fp16")) {
                err.println(command + ": backend cuda, kv fp16");
                return new Loaded(model, kv, () -> model.newCache(cap));
            }
            try {
                KvMethod method = KvMethod.parse(kv);
                Calibration calibration = method.keys().reorder() ? KvCacheFactory.calibration(modelDir, model.fingerprint()) : null;
                CudaRotateKv quantized = model.rotateKv(method, calibration, KvOption.check(command, a) == KvCacheFactory.Mode.DECODE);
                err.println(command + ": backend cuda, kv " + kv + " (2-bit on the GPU)");
                return new Loaded(model, kv, () -> quantized.newCache(cap));
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
        if (device.isPresent()) {
            err.println(command + ": backend cpu: --kv " + a.string("kv", "") + " runs on the CPU (" + why + ")");
            device.get().close();
        } else if (kind == Kind.AUTO) {
            err.println(command + ": backend cpu");
        }
        LlamaModel model = LlamaModel.load(modelDir);
        KvCacheFactory caches = KvOption.parse(command, a, model);
        return new Loaded(model, caches.method(), caches);
    }
}
