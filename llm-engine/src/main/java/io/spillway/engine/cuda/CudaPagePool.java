package io.spillway.engine.cuda;

import org.bytedeco.javacpp.Pointer;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Device memory for paged caches, in pages of one size, cut from slabs allocated as caches grow. Pages are
 * taken from the oldest slab that has one, so long-lived sequences pack into few slabs; a slab whose pages are
 * all back is freed once another empty one is kept, so a worker's GPU memory follows what its sequences hold
 * now, while a sequence closing and the next one opening at a slab's edge do not free and allocate it again.
 */
final class CudaPagePool {
    /** Bytes a slab holds at least: cudaMalloc is too slow to call once a page. */
    private static final long SLAB_BYTES = 64L << 20;

    private final DeviceMemory device;
    private final long pageBytes;
    private final long pagesPerSlab;
    private final TreeMap<Long, Slab> slabs = new TreeMap<>();
    /** Slabs with a free page, oldest first. */
    private final TreeSet<Slab> withFree = new TreeSet<>((a, b) -> Long.compare(a.serial, b.serial));
    private long serials;
    private Slab keptEmpty;

    CudaPagePool(DeviceMemory device, long pageBytes) {
        if (pageBytes <= 0 || pageBytes % 256 != 0) {
            throw new IllegalArgumentException("page bytes must be a positive multiple of 256, got " + pageBytes);
        }
        this.device = device;
        this.pageBytes = pageBytes;
        this.pagesPerSlab = Math.max(1, SLAB_BYTES / pageBytes);
    }

    long pageBytes() {
        return pageBytes;
    }

    /** A page's device address. */
    synchronized long take() {
        if (withFree.isEmpty()) {
            Slab slab = new Slab(device.alloc(pagesPerSlab * pageBytes), serials++);
            slabs.put(slab.memory.address(), slab);
            withFree.add(slab);
        }
        Slab slab = withFree.first();
        if (slab == keptEmpty) {
            keptEmpty = null;
        }
        long page = slab.free.pop();
        if (slab.free.isEmpty()) {
            withFree.remove(slab);
        }
        return page;
    }

    synchronized void give(long page) {
        Map.Entry<Long, Slab> e = slabs.floorEntry(page);
        if (e == null || page >= e.getKey() + pagesPerSlab * pageBytes || (page - e.getKey()) % pageBytes != 0) {
            throw new IllegalArgumentException("0x" + Long.toHexString(page) + " is not a page of this pool");
        }
        Slab slab = e.getValue();
        slab.free.push(page);
        withFree.add(slab);
        if (slab.free.size() == pagesPerSlab) {
            if (keptEmpty == null) {
                keptEmpty = slab;
            } else {
                withFree.remove(slab);
                slabs.remove(e.getKey());
                device.free(slab.memory);
            }
        }
    }

    /** Slabs allocated now. */
    synchronized int slabs() {
        return slabs.size();
    }

    private final class Slab {
        final Pointer memory;
        final long serial;
        final ArrayDeque<Long> free = new ArrayDeque<>();

        Slab(Pointer memory, long serial) {
            this.memory = memory;
            this.serial = serial;
            for (long i = 0; i < pagesPerSlab; i++) {
                free.add(memory.address() + i * pageBytes);
            }
        }
    }
}
