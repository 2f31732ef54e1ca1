package io.spillway.engine.cuda;

import java.util.Optional;
import java.util.function.Consumer;

/** Finds a usable CUDA GPU: JavaCPP's natives load, a device answers, and the kernels compile for it. */
public final class CudaBackend {
    private CudaBackend() {
    }

    /**
     * Opens GPU 0, or says on {@code log} why not (no natives for this platform, no driver, no device,
     * a kernel that does not compile) and returns empty.
     */
    public static Optional<CudaDevice> tryOpen(Consumer<String> log) {
        try {
            CudaDevice device = CudaDevice.open();
            log.accept("CUDA device " + device.name() + " (" + device.arch() + ", " + (device.memoryBytes() >> 20) + " MiB)");
            return Optional.of(device);
        } catch (CudaException e) {
            log.accept("no usable CUDA GPU: " + e.getMessage());
        } catch (LinkageError e) {
            // UnsatisfiedLinkError, NoClassDefFoundError from JavaCPP's loader: no CUDA libraries here.
            log.accept("no usable CUDA GPU: CUDA libraries not loadable (" + e.getClass().getSimpleName() + ": "
                    + firstLine(e.getMessage()) + ")");
        }
        return Optional.empty();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
