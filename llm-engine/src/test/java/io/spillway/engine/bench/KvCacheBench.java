package io.spillway.engine.bench;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCache;
import io.spillway.engine.kv.KvLayout;
import io.spillway.engine.kv.LayerRows;
import io.spillway.engine.kv.QuantizedKvCache;
import io.spillway.engine.model.RopeConfig;
import io.spillway.engine.runtime.Rope;
import io.spillway.kvquant.KvMethod;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * KV-cache costs on the CPU with tiny-llama's shape (6 layers, 4 query heads, 2 KV heads of 128):
 * appending one token to every layer (quantize-on-append for the 2-bit methods), and one decode
 * step's attention over a context (for the 2-bit methods: decoding the packed blocks, then attending).
 * Run: {@code bin/spillway jmh KvCacheBench}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class KvCacheBench {
    private static final KvLayout LAYOUT = new KvLayout(6, 4, 2, 128);
    private static final Rope ROPE = new Rope(RopeConfig.plain(10000), 128, 16384);

    @Param({"fp16", "int2", "kivi2", "rotatekv2:reorder=off"})
    public String method;

    @Param({"1024", "4096"})
    public int context;

    private KvCache cache;
    private KvCache appendCache;
    private LayerRows rows;
    private float[] query;
    private float[] out;

    @Setup(Level.Iteration)
    public void fill() {
        SplittableRandom r = new SplittableRandom(1);
        int n = 256;
        int kv = LAYOUT.kvDim();
        float[] q = new float[n * 512];
        float[] k = new float[n * kv];
        float[] v = new float[n * kv];
        float[] h = new float[n * 512];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) r.nextGaussian();
            v[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = (float) r.nextGaussian();
            h[i] = (float) r.nextGaussian();
        }
        rows = new LayerRows(q, 512, k, v, kv, h, 512);
        cache = newCache();
        appendCache = newCache();
        for (int t = 0; t < context; t += n) {
            for (int l = 0; l < LAYOUT.layers(); l++) {
                cache.write(l, rows, 0, n);
            }
            cache.commit(n);
        }
        query = java.util.Arrays.copyOf(q, 512);
        out = new float[512];
    }

    private KvCache newCache() {
        return method.equals("fp16") ? new DenseKvCache(LAYOUT, ROPE, DenseKvCache.Precision.F16, 16)
                : new QuantizedKvCache(LAYOUT, ROPE, KvMethod.parse(method), null, true);
    }

    /** Tokens appended per second, all layers each; the cache starts over every 8K tokens (amortized). */
    @Benchmark
    public void append() {
        if (appendCache.length() == 8192) {
            appendCache.close();
            appendCache = newCache();
        }
        for (int l = 0; l < LAYOUT.layers(); l++) {
            appendCache.write(l, rows, appendCache.length() % 256, 1);
        }
        appendCache.commit(1);
    }

    /** Decode steps per second: every layer's attention for one new token over the context. */
    @Benchmark
    public float[] attendDecodeStep() {
        int pos = cache.length() - 1;
        for (int l = 0; l < LAYOUT.layers(); l++) {
            cache.prepare(l);
            for (int h = 0; h < LAYOUT.heads(); h++) {
                cache.attend(l, h, query, h * 128, pos, out, h * 128);
            }
        }
        return out;
    }
}
