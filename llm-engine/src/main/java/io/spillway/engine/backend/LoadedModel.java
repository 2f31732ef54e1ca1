package io.spillway.engine.backend;

import io.spillway.engine.cuda.CudaBackend;
import io.spillway.engine.cuda.CudaDevice;
import io.spillway.engine.cuda.CudaLlamaModel;
import io.spillway.engine.cuda.CudaRotateKv;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.model.ModelConfig;
import io.spillway.engine.runtime.Decoder;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.kvquant.Calibration;
import io.spillway.kvquant.KvMethod;

import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A model loaded on the backend chosen, with the maker of its KV caches: what a command or a worker
 * needs whichever device runs it. GPU caches hold up to {@code capacity} tokens, in pages taken as they grow.
 *
 * @param backend {@code cpu} or {@code cuda}: where it runs
 * @param kv      the KV method its caches use
 */
public record LoadedModel(Decoder model, String backend, String kv, Supplier<KvCache> caches, String fingerprint)
        implements AutoCloseable {

    /** fp16 on the GPU, fp32 on the CPU: each backend's exact cache. */
    public static final String DEFAULT_KV = "";

    /** Why {@code kv} cannot run on the GPU, or null when it can (fp16, or a method the 2-bit kernels take). */
    public static String gpuUnsupported(String kv) {
        if (kv.isEmpty() || kv.equals("fp16")) {
            return null;
        }
        if (kv.equals("fp32")) {
            return "the GPU keeps fp16 or 2-bit KV";
        }
        return CudaRotateKv.unsupported(KvMethod.parse(kv));
    }

    /**
     * Loads {@code dir} on {@code backend}: {@code cuda} fails with the reason when no GPU is usable or
     * {@code kv} cannot run there; {@code auto} takes the GPU when both hold and the CPU otherwise. Every
     * choice and its reason goes to {@code log}.
     *
     * @param kv       a KV method spec, or {@link #DEFAULT_KV}
     * @param capacity the most tokens one GPU cache holds (capped at the model's positions)
     */
    public static LoadedModel load(Path dir, Backend backend, String kv, KvCacheFactory.Mode mode, int capacity, Consumer<String> log) {
        String why = gpuUnsupported(kv);
        if (backend == Backend.CUDA && why != null) {
            throw new IllegalArgumentException("backend cuda cannot run kv " + kv + ": " + why);
        }
        Optional<CudaDevice> device = Optional.empty();
        if (backend != Backend.CPU && why == null) {
            device = CudaBackend.tryOpen(log);
            if (device.isEmpty() && backend == Backend.CUDA) {
                throw new IllegalStateException("backend cuda: no usable CUDA GPU (see above)");
            }
        }
        if (device.isPresent()) {
            return onGpu(dir, device.get(), kv.isEmpty() ? "fp16" : kv, mode, capacity, log);
        }
        if (backend == Backend.AUTO) {
            log.accept("backend cpu" + (why == null ? "" : ": kv " + kv + " runs on the CPU (" + why + ")"));
        }
        LlamaModel model = LlamaModel.load(dir);
        try {
            KvCacheFactory caches = new KvCacheFactory(model, kv.isEmpty() ? "fp32" : kv, mode);
            return new LoadedModel(model, "cpu", caches.method(), caches, model.fingerprint());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    private static LoadedModel onGpu(Path dir, CudaDevice device, String kv, KvCacheFactory.Mode mode, int capacity, Consumer<String> log) {
        CudaLlamaModel model = CudaLlamaModel.load(device, dir);
        try {
            int cap = Math.min(capacity, model.config().maxPositions());
            if (kv.equals("fp16")) {
                log.accept("backend cuda, kv fp16");
                return new LoadedModel(model, "cuda", kv, () -> model.newCache(cap), model.fingerprint());
            }
            KvMethod method = KvMethod.parse(kv);
            Calibration calibration = method.keys().reorder()
                    ? KvCacheFactory.calibration(dir, model.fingerprint(), method, KvLayout.of(model.config())) : null;
            CudaRotateKv quantized = model.rotateKv(method, calibration, mode == KvCacheFactory.Mode.DECODE);
            log.accept("backend cuda, kv " + kv + " (2-bit on the GPU)");
            return new LoadedModel(model, "cuda", kv, () -> quantized.newCache(cap), model.fingerprint());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return model.config();
    }

    @Override
    public void close() {
        model.close();
    }
}
