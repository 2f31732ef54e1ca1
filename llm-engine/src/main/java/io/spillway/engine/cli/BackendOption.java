package io.spillway.engine.cli;

import io.spillway.engine.backend.Backend;
import io.spillway.engine.backend.LoadedModel;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The {@code --backend cpu|cuda|auto} option: which device runs the forward pass. {@code auto} takes a
 * CUDA GPU where one is usable and the CPU otherwise, saying which and why on stderr.
 */
final class BackendOption {
    static final String HELP = """
            --backend B         cpu, cuda or auto (cuda where a GPU is usable, else cpu; default cpu).
                                  cuda keeps fp16 KV on the GPU (the default there) or, with --kv rotatekv2
                                  (and its 2-bit per-token overrides), packed 2-bit KV; auto runs other --kv on the CPU""";

    private BackendOption() {
    }

    static Backend check(String command, Args a) {
        Backend backend;
        try {
            backend = Backend.parse(a.string("backend", "cpu"));
        } catch (IllegalArgumentException e) {
            throw new UsageException(command + ": --" + e.getMessage());
        }
        KvOption.check(command, a);
        if (backend == Backend.CUDA) {
            String why = LoadedModel.gpuUnsupported(a.string("kv", LoadedModel.DEFAULT_KV));
            if (why != null) {
                throw new UsageException(command + ": --backend cuda cannot run --kv " + a.string("kv", "") + ": " + why);
            }
        }
        return backend;
    }

    /**
     * Loads the model on the chosen backend. {@code capacity} is the most tokens one cache holds.
     */
    static LoadedModel load(String command, Args a, Path modelDir, int capacity, PrintStream err) {
        Backend backend = check(command, a);
        return LoadedModel.load(modelDir, backend, a.string("kv", LoadedModel.DEFAULT_KV), KvOption.check(command, a), capacity,
                msg -> err.println(command + ": " + msg));
    }
}
