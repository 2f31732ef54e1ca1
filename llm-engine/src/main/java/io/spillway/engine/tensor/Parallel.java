package io.spillway.engine.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Runs loop bodies on all cores. A pool of its own keeps engine work off the common pool, which the
 * services around the engine use for their own tasks.
 */
public final class Parallel {
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors(),
            pool -> {
                var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("spillway-engine-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private Parallel() {
    }

    /** Calls {@code body} for every index in {@code [0, n)}, in parallel when there is more than one. */
    public static void forEach(int n, IntConsumer body) {
        if (n == 1) {
            body.accept(0);
        } else if (n > 1) {
            if (Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL) {
                IntStream.range(0, n).parallel().forEach(body);
            } else {
                POOL.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
            }
        }
    }
}
