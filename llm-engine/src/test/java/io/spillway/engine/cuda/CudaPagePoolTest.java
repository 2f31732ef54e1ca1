package io.spillway.engine.cuda;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CudaPagePoolTest {
    /** 1 MiB pages: 64 a slab. */
    private static final long PAGE = 1L << 20;
    private static final int PER_SLAB = 64;

    @Test
    void pagesAreDistinctAndSlabsComeAsNeeded() {
        FakeDeviceMemory memory = new FakeDeviceMemory();
        CudaPagePool pool = new CudaPagePool(memory, PAGE);
        Set<Long> pages = new HashSet<>();
        for (int i = 0; i < PER_SLAB + 1; i++) {
            pages.add(pool.take());
        }
        assertThat(pages).hasSize(PER_SLAB + 1).allSatisfy(p -> assertThat(p % PAGE).isZero());
        assertThat(pool.slabs()).isEqualTo(2);
        assertThat(memory.live).hasSize(2);
    }

    @Test
    void emptySlabsBeyondOneAreFreedAndTheKeptOneIsReused() {
        FakeDeviceMemory memory = new FakeDeviceMemory();
        CudaPagePool pool = new CudaPagePool(memory, PAGE);
        List<Long> pages = new ArrayList<>();
        for (int i = 0; i < 3 * PER_SLAB; i++) {
            pages.add(pool.take());
        }
        assertThat(memory.live).hasSize(3);
        pages.forEach(pool::give);
        assertThat(memory.live).as("one empty slab kept").hasSize(1);

        long again = pool.take();
        assertThat(memory.live).as("the kept slab serves the next page").hasSize(1);
        pool.give(again);
        assertThat(memory.live).hasSize(1);
    }

    @Test
    void takesFromTheOldestSlabSoLongLivedPagesPack() {
        FakeDeviceMemory memory = new FakeDeviceMemory();
        CudaPagePool pool = new CudaPagePool(memory, PAGE);
        List<Long> first = new ArrayList<>();
        List<Long> second = new ArrayList<>();
        for (int i = 0; i < PER_SLAB; i++) {
            first.add(pool.take());
        }
        for (int i = 0; i < PER_SLAB; i++) {
            second.add(pool.take());
        }
        // A page of the first slab comes back while the second slab is full: the next page is that one.
        pool.give(first.get(5));
        assertThat(pool.take()).isEqualTo(first.get(5));
        // Half of each slab back: new pages fill the first slab before touching the second.
        for (int i = 0; i < PER_SLAB / 2; i++) {
            pool.give(first.get(i));
            pool.give(second.get(i));
        }
        Set<Long> firstSlab = new HashSet<>(first);
        for (int i = 0; i < PER_SLAB / 2; i++) {
            assertThat(firstSlab).contains(pool.take());
        }
    }

    @Test
    void refusesAnAddressThatIsNotOneOfItsPages() {
        CudaPagePool pool = new CudaPagePool(new FakeDeviceMemory(), PAGE);
        long page = pool.take();
        assertThatThrownBy(() -> pool.give(page + 256)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a page of this pool");
        assertThatThrownBy(() -> pool.give(12345L)).isInstanceOf(IllegalArgumentException.class);
    }
}
