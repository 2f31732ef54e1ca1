package io.spillway.engine.cli;

import io.spillway.engine.cuda.CudaBackend;
import io.spillway.engine.cuda.CudaDevice;
import io.spillway.engine.cuda.CudaLlamaModel;
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
                                  cuda keeps fp16 KV on the GPU (--kv fp16, the default there)""";

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
        if (kind == Kind.CUDA && a.has("kv") && !a.string("kv", "").equals("fp16")) {
            throw new UsageException(command + ": --backend cuda supports --kv fp16 only, got '" + a.string("kv", "") + "'");
        }
        return kind;
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
        if (device.isPresent() && (kind == Kind.CUDA || !a.has("kv") || a.string("kv", "").equals("fp16"))) {
            CudaLlamaModel model = CudaLlamaModel.load(device.get(), modelDir);
            err.println(command + ": backend cuda");
            int cap = Math.min(capacity, model.config().maxPositions());
            return new Loaded(model, "fp16", () -> model.newCache(cap));
        }
        if (device.isPresent()) {
            err.println(command + ": backend cpu: --kv " + a.string("kv", "") + " runs on the CPU only");
            device.get().close();
        } else if (kind == Kind.AUTO) {
            err.println(command + ": backend cpu");
        }
        LlamaModel model = LlamaModel.load(modelDir);
        KvCacheFactory caches = KvOption.parse(command, a, model);
        return new Loaded(model, caches.method(), caches);
    }
}
