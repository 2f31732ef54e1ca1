package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PrefillTest {
    @Test
    void chunksSplitIntoTilesOfSixtyFourRowsWithinTheirSequence() {
        Prefill p = new Prefill(4);
        p.add(2, 40, 300);
        p.add(42, 3, 1000);
        assertThat(p.tileArray()).containsExactly(2, 16, 18, 16, 34, 8, 42, 3);
        assertThat(p.tiles()).isEqualTo(4);
        assertThat(p.sequences()).isEqualTo(2);
        assertThat(p.span()).isEqualTo(1000);
        assertThat(p.lastTokens()).containsExactly(41, 44);
    }

    @Test
    void decodedRowsOfEachChunkStartOneSpanAfterThePrevious() {
        Prefill p = new Prefill(8);
        p.add(1, 2, 10);
        p.add(3, 2, 20);
        long base = 1 << 20;
        long perSequence = 2L * 2 * 64 * 20;
        assertThat(p.unpackedBytes(64)).isEqualTo(2 * perSequence);
        assertThat(p.rowAddresses(5, new Pointer() {
            {
                address = base;
            }
        }, 64)).containsExactly(0, base, base, base + perSequence, base + perSequence);
    }
}
