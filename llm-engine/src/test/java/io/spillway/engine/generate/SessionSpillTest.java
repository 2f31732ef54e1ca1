package io.spillway.engine.generate;

import io.spillway.engine.kv.KvCacheFactory;
import io.spillway.engine.runtime.LlamaModel;
import io.spillway.engine.sampling.SamplingParams;
import io.spillway.engine.testing.TinyLlama;
import io.spillway.engine.tokenizer.Tokenizer;
import io.spillway.kvquant.spill.SpillFormatException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A session spilled after a turn and restored elsewhere continues exactly as the one that stayed hot. */
class SessionSpillTest {
    private static LlamaModel model;
    private static Tokenizer tokenizer;

    @BeforeAll
    static void load() {
        model = LlamaModel.load(TinyLlama.modelDir());
        tokenizer = Tokenizer.load(TinyLlama.modelDir());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    private static ContinuousBatcherTest.Collector run(ContinuousBatcher b, int[] prompt, Session session) {
        var c = new ContinuousBatcherTest.Collector();
        b.submit(new GenerationRequest(prompt, SamplingParams.greedy(12), Set.of()), c, session);
        b.runUntilIdle();
        return c;
    }

    private static int[] concat(int[]... parts) {
        return Arrays.stream(parts).flatMapToInt(Arrays::stream).toArray();
    }

    private static byte[] spill(Session s) throws IOException {
        var out = new ByteArrayOutputStream();
        s.writeTo(model.fingerprint(), out);
        return out.toByteArray();
    }

    @Test
    void restoredSessionContinuesLikeTheHotOne() throws IOException {
        for (String method : new String[] {"rotatekv2", "fp16"}) {
            KvCacheFactory caches = new KvCacheFactory(model, method, KvCacheFactory.Mode.DECODE);
            ContinuousBatcher b = new ContinuousBatcher(model, tokenizer, caches, 2, 64);
            int[] first = tokenizer.encode("Once upon a time, a little fox lived by a river. One day", true);
            try (Session hot = new Session("hot", caches)) {
                var one = run(b, first, hot);
                byte[] blob = spill(hot);
                try (Session resumed = Session.restore("resumed", caches, model.fingerprint(), new ByteArrayInputStream(blob))) {
                    assertThat(resumed.tokens()).isEqualTo(hot.tokens());
                    assertThat(resumed.bytes()).isEqualTo(hot.bytes());
                    assertThat(Arrays.equals(spill(resumed), blob)).as("%s: the restored session spills to the same bytes", method).isTrue();
                    int[] second = concat(first, one.ids.stream().mapToInt(Integer::intValue).toArray(),
                            tokenizer.encode(" The fox said", false));
                    var fromHot = run(b, second, hot);
                    var fromSpill = run(b, second, resumed);
                    assertThat(fromSpill.usage.cachedTokens()).as(method).isEqualTo(fromHot.usage.cachedTokens()).isPositive();
                    assertThat(fromSpill.ids).as(method).isEqualTo(fromHot.ids);
                }
            }
        }
    }

    @Test
    void aDamagedBlobIsRefusedAndHoldsNothing() throws IOException {
        KvCacheFactory caches = new KvCacheFactory(model, "rotatekv2", KvCacheFactory.Mode.DECODE);
        ContinuousBatcher b = new ContinuousBatcher(model, tokenizer, caches, 1, 64);
        try (Session s = new Session("s", caches)) {
            run(b, IntStream.range(2, 60).toArray(), s);
            byte[] blob = spill(s);
            byte[] flipped = blob.clone();
            flipped[blob.length * 3 / 4] ^= 0x01;
            assertThatThrownBy(() -> Session.restore("x", caches, model.fingerprint(), new ByteArrayInputStream(flipped)))
                    .isInstanceOf(SpillFormatException.class);
            assertThatThrownBy(() -> Session.restore("x", caches, model.fingerprint(),
                    new ByteArrayInputStream(Arrays.copyOf(blob, blob.length - 9)))).isInstanceOf(IOException.class);
            assertThatThrownBy(() -> Session.restore("x", caches, "another-model", new ByteArrayInputStream(blob)))
                    .isInstanceOf(IOException.class).hasMessageContaining("another-model");
        }
    }
}
