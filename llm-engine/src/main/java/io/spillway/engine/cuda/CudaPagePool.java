package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayDeque;

/**
 * Device memory for paged caches, in pages of one size: taken from slabs allocated as caches grow, given back
 * when a cache closes and reused by the next. Slabs stay allocated until the device closes, so a worker's GPU
 * memory follows the most it held at once, not the sum of its sequences' capacities.
 */
final class CudaPagePool {
    /** Bytes a slab holds at least: cudaMalloc is too slow to call once a page. */
    private static final long SLAB_BYTES = 64L << 20;

    private final CudaDevice device;
    private final long pageBytes;
    private final ArrayDeque<Long> free = new ArrayDeque<>();

    CudaPagePool(CudaDevice device, long pageBytes) {
        if (pageBytes <= 0 || pageBytes % 256 != 0) {
            throw new IllegalArgumentException("page bytes must be a positive multiple of 256, got " + pageBytes);
        }
        this.device = device;
        this.pageBytes = pageBytes;
    }

    long pageBytes() {
        return pageBytes;
    }

    /** A page's device address. */
    synchronized long take() {
        if (free.isEmpty()) {
            long pages = Math.max(1, SLAB_BYTES / pageBytes);
            Pointer slab = device.alloc(pages * pageBytes);
            for (long i = 0; i < pages; i++) {
                free.add(slab.address() + i * pageBytes);
            }
        }
        return free.pop();
    }

    synchronized void give(long page) {
        free.push(page);
    }
}
