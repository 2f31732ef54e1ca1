package io.spillway.engine.eval;

import io.spillway.engine.kv.DenseKvCache;
import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.testing.TinyLlama;
import io.spillway.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class PerplexityTest {
    private static LlamaModel model;
    private static int[] stream;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TinyLlama.modelDir());
        stream = Documents.tokenStream(Documents.read(TinyLlama.validationText()), Tokenizer.load(TinyLlama.modelDir()), 0, 1);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** The whole validation text, as reference.json's ppl_valid_fp32 was measured: a few minutes on two cores. */
    @Test
    void validationPerplexityMatchesTransformers() {
        var r = new Perplexity(model, () -> model.newCache(DenseKvCache.Precision.F32), 512, 2, false).evaluate(stream, (d, t, n, p) -> {
        });
        assertThat(r.predictedTokens()).isEqualTo(234508);
        assertThat(r.perplexity()).isCloseTo(TinyLlama.reference().get("ppl_valid_fp32").asDouble(), within(0.05));
    }

    @Test
    void tokenByTokenEqualsPrefillWithAnExactCache() {
        int[] part = Arrays.copyOf(stream, 3 * 128 + 1);
        double prefill = new Perplexity(model, () -> model.newCache(DenseKvCache.Precision.F32), 128, 3, false)
                .evaluate(part, (d, t, n, p) -> {
                }).perplexity();
        double decode = new Perplexity(model, () -> model.newCache(DenseKvCache.Precision.F32), 128, 3, true)
                .evaluate(part, (d, t, n, p) -> {
                }).perplexity();
        assertThat(decode).isCloseTo(prefill, within(1e-3 * prefill));
    }

    @Test
    void rotateKvBeatsPlainInt2AtTheSameBits() {
        int[] part = Arrays.copyOf(stream, 4 * 512 + 1);
        var rotate = new Perplexity(model, new KvCacheFactory(model, "rotatekv2:sinks=0", KvCacheFactory.Mode.ALL), 512, 1, false)
                .evaluate(part, (d, t, n, p) -> {
                });
        var int2 = new Perplexity(model, new KvCacheFactory(model, "int2", KvCacheFactory.Mode.ALL), 512, 1, false)
                .evaluate(part, (d, t, n, p) -> {
                });
        assertThat(rotate.kvBytesPerToken()).isEqualTo(int2.kvBytesPerToken());
        assertThat(rotate.perplexity()).isLessThan(int2.perplexity() * 0.9);
    }
}
