package io.spillway.engine.testing;

import io.spillway.engine.cuda.CudaBackend;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** For tests of what happens where no CUDA GPU is usable: they are skipped where one is. */
public final class NoGpu {
    private NoGpu() {
    }

    /** Skips the calling test where a GPU is usable; {@code what} names the behaviour that is then unreachable. */
    public static void assume(String what) {
        assumeFalse(CudaBackend.tryOpen(m -> { }).map(d -> {
            d.close();
            return true;
        }).orElse(false), "a CUDA GPU is usable here: " + what + " is not reachable");
    }
}
