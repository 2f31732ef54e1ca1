package io.spillway.engine.cuda;

/** A CUDA, cuBLAS or NVRTC call that failed, with the call named and its status code. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }

    static void check(int status, String call) {
        if (status != 0) {
            throw new CudaException(call + " failed with status " + status);
        }
    }
}
