package io.spillway.engine.cli;

import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.kvquant.KvMethod;

import java.util.Locale;

/** The {@code --kv} and {@code --kv-mode} options: which cache a command runs with. */
final class KvOption {
    static final String HELP = """
            --kv METHOD         KV cache: fp32 (exact, default), fp16, int2, int4, kivi2, rotatekv2, akvq2,
                                  optionally with overrides, e.g. rotatekv2:reorder=off,sinks=0,group=64
              --kv-mode MODE      decode: newest block kept in fp16 until full (what serving does, default);
                                  all: every entry quantized at once, no fp16 window""";

    private KvOption() {
    }

    /** Checks --kv and --kv-mode before any file is read, so a typo is a usage error, not a late failure. */
    static KvCacheFactory.Mode check(String command, Args a) {
        String method = a.string("kv", "fp32");
        if (!method.equals("fp32")) {
            try {
                KvMethod.parse(method);
            } catch (IllegalArgumentException e) {
                throw new UsageException(command + ": --kv: " + e.getMessage() + " (or fp32)");
            }
        }
        try {
            return KvCacheFactory.Mode.valueOf(a.string("kv-mode", "decode").toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new UsageException(command + ": --kv-mode must be all or decode");
        }
    }

    static KvCacheFactory parse(String command, Args a, LlamaModel model) {
        return new KvCacheFactory(model, a.string("kv", "fp32"), check(command, a));
    }
}
