package io.spillway.engine.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.cuda.nvrtc._nvrtcProgram;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static io.spillway.engine.cuda.CudaException.check;
import static org.bytedeco.cuda.global.cublas.CUBLAS_COMPUTE_32F;
import static org.bytedeco.cuda.global.cublas.CUBLAS_GEMM_DEFAULT;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_N;
import static org.bytedeco.cuda.global.cublas.CUBLAS_OP_T;
import static org.bytedeco.cuda.global.cublas.cublasCreate_v2;
import static org.bytedeco.cuda.global.cublas.cublasDestroy_v2;
import static org.bytedeco.cuda.global.cublas.cublasGemmEx;
import static org.bytedeco.cuda.global.cublas.cublasSetStream_v2;
import static org.bytedeco.cuda.global.cublas.cublasSetWorkspace_v2;
import static org.bytedeco.cuda.global.cudart.CUDA_R_16F;
import static org.bytedeco.cuda.global.cudart.CUDA_R_32F;
import static org.bytedeco.cuda.global.cudart.cuLaunchKernel;
import static org.bytedeco.cuda.global.cudart.cuModuleGetFunction;
import static org.bytedeco.cuda.global.cudart.cuModuleLoadData;
import static org.bytedeco.cuda.global.cudart.cudaDeviceSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaEventCreate;
import static org.bytedeco.cuda.global.cudart.cudaEventDestroy;
import static org.bytedeco.cuda.global.cudart.cudaEventElapsedTime;
import static org.bytedeco.cuda.global.cudart.cudaEventRecord;
import static org.bytedeco.cuda.global.cudart.cudaEventSynchronize;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceCount;
import static org.bytedeco.cuda.global.cudart.cudaGetDeviceProperties;
import static org.bytedeco.cuda.global.cudart.cudaGraphDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphExecDestroy;
import static org.bytedeco.cuda.global.cudart.cudaGraphInstantiate;
import static org.bytedeco.cuda.global.cudart.cudaGraphLaunch;
import static org.bytedeco.cuda.global.cudart.cudaStreamBeginCapture;
import static org.bytedeco.cuda.global.cudart.cudaStreamCaptureModeThreadLocal;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamEndCapture;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpy;
import static org.bytedeco.cuda.global.cudart.cudaMemGetInfo;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemset;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaSetDevice;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_NUM_REGS;
import static org.bytedeco.cuda.global.cudart.cuFuncGetAttribute;
import static org.bytedeco.cuda.global.cudart.cuFuncSetAttribute;
import static org.bytedeco.cuda.global.cudart.cuOccupancyMaxActiveBlocksPerMultiprocessor;
import static org.bytedeco.cuda.global.cudart.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCompileProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcCreateProgram;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBIN;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetCUBINSize;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLog;
import static org.bytedeco.cuda.global.nvrtc.nvrtcGetProgramLogSize;

/**
 * GPU 0 with the engine's kernels loaded: the CUDA C resource compiled by NVRTC for this device's
 * architecture (cached by source hash and architecture), a cuBLAS handle, and small helpers for
 * memory, copies, GEMMs, launches and CUDA graphs. Kernels and GEMMs go to one stream that is ordered
 * with the legacy default stream the synchronous copies use, so only graph capture needs it by name.
 */
public final class CudaDevice implements AutoCloseable, DeviceMemory {
    static final String KERNELS = "llama.cu";
    static final String PRELUDE = "common.cuh";
    /** cuBLAS's own workspace would be allocated while a graph is captured; this one is fixed. */
    private static final long BLAS_WORKSPACE = 32L << 20;
    /**
     * Decode steps of up to {@link #GEMV_TOKENS} tokens multiply by llama.cu's {@code gemv_T}, which streams the
     * weights at a larger fraction of the memory bandwidth than cuBLAS does with so few columns
     * ({@code -Dspillway.cuda.gemv=false}: cuBLAS for every size).
     */
    private static final boolean GEMV = Boolean.parseBoolean(System.getProperty("spillway.cuda.gemv", "true"));
    /** Measured: faster at 1 and 2 tokens, mixed at 4 (docs/BENCHMARKS.md). */
    private static final int GEMV_TOKENS = 2;
    /** 8 warps a block, 2 rows a warp. */
    private static final int GEMV_ROWS_PER_BLOCK = 16;

    private final String name;
    private final String arch;
    private final long memoryBytes;
    private final int multiprocessors;
    private final cublasContext blas = new cublasContext();
    private final CUstream_st stream = new CUstream_st();
    private final Kernels kernels;
    private final FloatPointer gemmOne = new FloatPointer(1f);
    private final FloatPointer gemmZero = new FloatPointer(0f);
    private final List<Pointer> owned = new ArrayList<>();
    private final CUevent_st before = new CUevent_st();
    private final CUevent_st after = new CUevent_st();
    /** GPU milliseconds and calls by kernel while a profile is on, else null. */
    private Map<String, double[]> profile;

    private CudaDevice() {
        int[] count = new int[1];
        check(cudaGetDeviceCount(count), "cudaGetDeviceCount");
        if (count[0] == 0) {
            throw new CudaException("no CUDA device");
        }
        check(cudaSetDevice(0), "cudaSetDevice");
        cudaDeviceProp p = new cudaDeviceProp();
        check(cudaGetDeviceProperties(p, 0), "cudaGetDeviceProperties");
        this.name = p.name().getString();
        this.arch = "sm_" + p.major() + p.minor();
        this.memoryBytes = p.totalGlobalMem();
        this.multiprocessors = p.multiProcessorCount();
        // Driver-API calls below need the primary context started.
        check(cudaFree(null), "cudaFree(null)");
        this.kernels = kernels(KERNELS, List.of());
        check(cudaStreamCreate(stream), "cudaStreamCreate");
        check(cudaEventCreate(before), "cudaEventCreate");
        check(cudaEventCreate(after), "cudaEventCreate");
        check(cublasCreate_v2(blas), "cublasCreate");
        check(cublasSetStream_v2(blas, stream), "cublasSetStream");
        check(cublasSetWorkspace_v2(blas, alloc(BLAS_WORKSPACE), BLAS_WORKSPACE), "cublasSetWorkspace");
    }

    /** Opens device 0; throws {@link CudaException} or a linkage error where CUDA is missing. */
    public static CudaDevice open() {
        return new CudaDevice();
    }

    public String name() {
        return name;
    }

    public String arch() {
        return arch;
    }

    public long memoryBytes() {
        return memoryBytes;
    }

    int multiprocessors() {
        return multiprocessors;
    }

    /** Device memory in use now, by every process (total minus free). */
    public long usedBytes() {
        SizeTPointer free = new SizeTPointer(1);
        SizeTPointer total = new SizeTPointer(1);
        check(cudaMemGetInfo(free, total), "cudaMemGetInfo");
        return total.get() - free.get();
    }

    /** Device-to-device copy bandwidth in bytes/s, counting bytes read and written: the decode roofline. */
    public double copyBandwidth(long bytes, int iterations) {
        Pointer a = alloc(bytes);
        Pointer b = alloc(bytes);
        try {
            check(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy D2D");
            synchronize();
            long start = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                check(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy D2D");
            }
            synchronize();
            return 2.0 * bytes * iterations / ((System.nanoTime() - start) / 1e9);
        } finally {
            free(a);
            free(b);
        }
    }

    void zero(Pointer p, long bytes) {
        check(cudaMemset(p, 0, bytes), "cudaMemset");
    }

    /** One compiled kernel resource: its functions, looked up once. */
    final class Kernels {
        private static final int MAX_ARGS = 32;
        /** Dynamic shared memory a block may take without asking for more. */
        private static final int DEFAULT_SHARED = 48 << 10;

        private final CUmod_st module = new CUmod_st();
        private final Map<String, CUfunc_st> functions = new HashMap<>();
        private final Map<String, Integer> resident = new HashMap<>();
        /** One 8-byte slot per argument, written in place per launch: a decode step launches hundreds of kernels. */
        private final BytePointer slots = new BytePointer(8L * MAX_ARGS);
        private final PointerPointer<Pointer> params = new PointerPointer<>(MAX_ARGS);

        private Kernels(byte[] cubin) {
            check(cuModuleLoadData(module, new BytePointer(cubin)), "cuModuleLoadData");
            for (int i = 0; i < MAX_ARGS; i++) {
                params.put(i, slots.getPointer(8L * i));
            }
        }

        void launch(String kernel, int gridX, int gridY, int block, Object... args) {
            launch(kernel, new int[] {gridX, gridY, 1}, block, args);
        }

        /** Registers per thread and local (spilled) bytes per thread of a kernel, as ptxas left them. */
        int[] resources(String kernel) {
            int[] regs = new int[1];
            int[] local = new int[1];
            check(cuFuncGetAttribute(regs, CU_FUNC_ATTRIBUTE_NUM_REGS, function(kernel)), "cuFuncGetAttribute");
            check(cuFuncGetAttribute(local, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, function(kernel)), "cuFuncGetAttribute");
            return new int[] {regs[0], local[0]};
        }

        /** Blocks of {@code block} threads and {@code sharedBytes} of dynamic shared memory that fit the GPU at once. */
        synchronized int resident(String kernel, int block, int sharedBytes) {
            return resident.computeIfAbsent(kernel + "/" + block + "/" + sharedBytes, k -> {
                int[] perMultiprocessor = new int[1];
                check(cuOccupancyMaxActiveBlocksPerMultiprocessor(perMultiprocessor, function(kernel, sharedBytes), block, sharedBytes),
                        "cuOccupancyMaxActiveBlocksPerMultiprocessor(" + kernel + ")");
                return Math.max(1, perMultiprocessor[0]) * multiprocessors;
            });
        }

        private CUfunc_st function(String kernel, int sharedBytes) {
            CUfunc_st f = function(kernel);
            if (sharedBytes > DEFAULT_SHARED) {
                check(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes), "cuFuncSetAttribute(" + kernel + ")");
            }
            return f;
        }

        private CUfunc_st function(String kernel) {
            return functions.computeIfAbsent(kernel, k -> {
                CUfunc_st fn = new CUfunc_st();
                check(cuModuleGetFunction(fn, module, k), "cuModuleGetFunction(" + k + ")");
                return fn;
            });
        }

        void launch(String kernel, int[] grid, int block, Object... args) {
            launchShared(kernel, grid, block, 0, args);
        }

        /** A launch with {@code sharedBytes} of dynamic shared memory a block. */
        synchronized void launchShared(String kernel, int[] grid, int block, int sharedBytes, Object... args) {
            CUfunc_st f = function(kernel, sharedBytes);
            if (args.length > MAX_ARGS) {
                throw new IllegalArgumentException(kernel + ": more than " + MAX_ARGS + " kernel arguments");
            }
            // cuLaunchKernel copies the arguments before it returns, so the slots are free again after it.
            for (int i = 0; i < args.length; i++) {
                long at = 8L * i;
                switch (args[i]) {
                    case Pointer p -> slots.putLong(at, p.address());
                    case Integer v -> slots.putInt(at, v);
                    case Long v -> slots.putLong(at, v);
                    case Float v -> slots.putFloat(at, v);
                    default -> throw new IllegalArgumentException("kernel argument of type " + args[i].getClass());
                }
            }
            timed(() -> kernel, () -> check(cuLaunchKernel(f, grid[0], grid[1], grid[2], block, 1, 1, sharedBytes, stream, params, null),
                    "cuLaunchKernel(" + kernel + ")"));
        }
    }

    /**
     * Compiles (or takes from the cache) a kernel resource beside this class, after the shared prelude,
     * with {@code -D} definitions for shapes that must be known at compile time.
     */
    Kernels kernels(String resource, List<String> defines) {
        return new Kernels(compile(resource, source(PRELUDE) + source(resource), defines, arch));
    }

    /** A kernel resource's CUDA C source. */
    static String source(String resource) {
        // Kernel work compares sources side by side in one run without rebuilding the jar.
        String dir = System.getProperty("spillway.cuda.source");
        if (dir != null) {
            try {
                return Files.readString(Path.of(dir, resource));
            } catch (IOException e) {
                throw new UncheckedIOException("spillway.cuda.source: cannot read " + resource + " from " + dir, e);
            }
        }
        try (InputStream in = CudaDevice.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("kernel resource " + resource + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where compiled kernels are kept between runs: the source hash and architecture name the file. */
    static Path cacheFile(String source, String arch) {
        String dir = System.getProperty("spillway.cuda.cache", System.getProperty("java.io.tmpdir") + "/spillway-cuda");
        return Path.of(dir, Integer.toHexString(source.hashCode()) + "-" + source.length() + "-" + arch + ".cubin");
    }

    private static byte[] compile(String resource, String source, List<String> defines, String arch) {
        List<String> options = new ArrayList<>(List.of("--gpu-architecture=" + arch, "-default-device", "--std=c++17"));
        defines.forEach(d -> options.add("-D" + d));
        Path cached = cacheFile(source + options, arch);
        try {
            if (Files.isRegularFile(cached)) {
                return Files.readAllBytes(cached);
            }
        } catch (IOException e) {
            // An unreadable cache only costs a compile.
        }
        _nvrtcProgram prog = new _nvrtcProgram();
        check(nvrtcCreateProgram(prog, new BytePointer(source), new BytePointer(resource), 0, (PointerPointer<?>) null,
                (PointerPointer<?>) null), "nvrtcCreateProgram");
        int rc = nvrtcCompileProgram(prog, options.size(), new PointerPointer<>(options.toArray(String[]::new)));
        if (rc != 0) {
            SizeTPointer size = new SizeTPointer(1);
            nvrtcGetProgramLogSize(prog, size);
            String log = "";
            if (size.get() > 1) {
                BytePointer text = new BytePointer(size.get());
                nvrtcGetProgramLog(prog, text);
                log = text.getString().replace("\0", "").strip();
            }
            throw new CudaException("NVRTC could not compile " + resource + " " + defines + " for " + arch + ": " + log);
        }
        SizeTPointer size = new SizeTPointer(1);
        check(nvrtcGetCUBINSize(prog, size), "nvrtcGetCUBINSize");
        BytePointer bin = new BytePointer(size.get());
        check(nvrtcGetCUBIN(prog, bin), "nvrtcGetCUBIN");
        byte[] cubin = new byte[(int) size.get()];
        bin.get(cubin);
        try {
            Files.createDirectories(cached.getParent());
            Path tmp = Files.createTempFile(cached.getParent(), "cubin", ".tmp");
            Files.write(tmp, cubin);
            Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            // A read-only cache directory only costs a compile next time.
        }
        return cubin;
    }

    /** Device memory owned by this device object (freed on close). */
    @Override
    public Pointer alloc(long bytes) {
        Pointer p = new Pointer();
        check(cudaMalloc(p, Math.max(bytes, 1)), "cudaMalloc(" + bytes + ")");
        owned.add(p);
        return p;
    }

    @Override
    public void free(Pointer p) {
        if (owned.remove(p)) {
            check(cudaFree(p), "cudaFree");
        }
    }

    void toDevice(Pointer dst, Pointer src, long bytes) {
        check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
    }

    public Pointer upload(float[] a) {
        Pointer p = alloc(4L * a.length);
        toDevice(p, new FloatPointer(a), 4L * a.length);
        return p;
    }

    void uploadFloats(Pointer dst, float[] a) {
        toDevice(dst, new FloatPointer(a), 4L * a.length);
    }

    /** A new device copy of {@code a}. */
    Pointer upload(int[] a) {
        Pointer p = alloc(4L * a.length);
        uploadInts(p, a);
        return p;
    }

    void uploadInts(Pointer dst, int[] a) {
        toDevice(dst, new IntPointer(a), 4L * a.length);
    }

    void uploadLongs(Pointer dst, long[] a) {
        toDevice(dst, new LongPointer(a), 8L * a.length);
    }

    /** {@code count} bytes of device memory at {@code address}, as stored (little-endian). */
    byte[] readBytes(long address, int count) {
        byte[] out = new byte[count];
        if (count > 0) {
            BytePointer host = new BytePointer(count);
            check(cudaMemcpy(host, at(address), count, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
            host.get(out);
            host.close();
        }
        return out;
    }

    /** Writes {@code data} to device memory at {@code address}. */
    void writeBytes(long address, byte[] data) {
        if (data.length > 0) {
            BytePointer host = new BytePointer(data);
            toDevice(at(address), host, data.length);
            host.close();
        }
    }

    /** A pointer to device memory at {@code address}, for kernels and copies (never freed on its own). */
    static Pointer at(long where) {
        // Inside the anonymous class "address" is Pointer's own field, hence another name for the argument.
        return new Pointer() {
            {
                address = where;
            }
        };
    }

    void download(float[] dst, Pointer src, long count) {
        FloatPointer host = new FloatPointer(count);
        check(cudaMemcpy(host, src, 4L * count, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
        host.get(dst, 0, (int) count);
        host.close();
    }

    void downloadInts(int[] dst, Pointer src, int count) {
        IntPointer host = new IntPointer(count);
        check(cudaMemcpy(host, src, 4L * count, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
        host.get(dst, 0, count);
        host.close();
    }

    void synchronize() {
        check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    /**
     * {@code out[tokens x rows] = x[tokens x cols] . w[rows x cols]^T}: fp16 row-major inputs, fp32 output,
     * fp32 accumulation. Row-major matrices are cuBLAS's column-major transposes, hence the operand order.
     */
    void gemm(Pointer w, Pointer x, Pointer out, int rows, int cols, int tokens) {
        gemm(w, x, out, rows, cols, tokens, gemmZero);
    }

    /** {@code out += x . w^T}, as {@link #gemm}: a residual add done by the GEMM's epilogue, not by one more kernel. */
    void gemmAdd(Pointer w, Pointer x, Pointer out, int rows, int cols, int tokens) {
        gemm(w, x, out, rows, cols, tokens, gemmOne);
    }

    /**
     * {@code out = rmsnorm(x) . w^T} with norm weights {@code norm}: one-token steps in one GEMV that normalizes x itself,
     * other steps as llama.cu's {@code rmsnorm_half} into {@code xn} (fp16, tokens x cols) and a GEMM. (Measured: 2% to 3%
     * faster steps at one token, 1% to 3% slower at two, where every block normalizes two rows before its products;
     * docs/BENCHMARKS.md.)
     */
    void normGemm(Pointer w, Pointer x, Pointer norm, float eps, Pointer xn, Pointer out, int rows, int cols, int tokens) {
        if (tokens == 1 && gemv(tokens, cols)) {
            launchTurns("gemv_norm", gemvBlocks(rows), 2 * cols, w, x, norm, eps, out, rows, cols);
            return;
        }
        launch("rmsnorm_half", tokens, 1, 256, x, norm, xn, cols, eps);
        gemm(w, xn, out, rows, cols, tokens);
    }

    /**
     * SwiGLU's product {@code act = silu(gate) * up} (fp16) of {@code rmsnorm(x) . w^T}, where w stacks {@code inter}
     * gate rows then {@code inter} up rows: one-token steps in one GEMV that normalizes x and pairs the rows, others as
     * {@link #normGemm} into {@code gateUp} (fp32, tokens x 2 inter) and llama.cu's {@code silu_mul_half}.
     */
    void normSwigluGemm(Pointer w, Pointer x, Pointer norm, float eps, Pointer xn, Pointer gateUp, Pointer act, int inter,
                        int cols, int tokens) {
        if (tokens == 1 && gemv(tokens, cols)) {
            launchTurns("gemv_norm_swiglu", gemvBlocks(2 * inter), 2 * cols, w, x, norm, eps, act, inter, cols);
            return;
        }
        normGemm(w, x, norm, eps, xn, gateUp, 2 * inter, cols, tokens);
        launch("silu_mul_half", blocks((long) tokens * inter, 256), 1, 256, gateUp, act, inter, (long) tokens * inter);
    }

    /**
     * A GEMV whose blocks take turns over {@code needed} blocks' rows: as many as fit the GPU at once, or fewer when
     * that evens out the turns each takes.
     */
    private void launchTurns(String kernel, int needed, int sharedBytes, Object... args) {
        int turns = Math.ceilDiv(needed, kernels.resident(kernel, 256, sharedBytes));
        kernels.launchShared(kernel, new int[] {Math.ceilDiv(needed, turns), 1, 1}, 256, sharedBytes, args);
    }

    private static boolean gemv(int tokens, int cols) {
        return GEMV && tokens <= GEMV_TOKENS && cols % 8 == 0;
    }

    private static int gemvBlocks(int rows) {
        return (rows + GEMV_ROWS_PER_BLOCK - 1) / GEMV_ROWS_PER_BLOCK;
    }

    private void gemm(Pointer w, Pointer x, Pointer out, int rows, int cols, int tokens, FloatPointer beta) {
        if (gemv(tokens, cols)) {
            launch("gemv_" + tokens, gemvBlocks(rows), 1, 256, w, x, out, rows, cols, beta == gemmOne ? 1 : 0);
            return;
        }
        timed(() -> "gemm " + rows + "x" + cols, () -> check(cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, rows, tokens, cols, gemmOne, w,
                CUDA_R_16F, cols, x, CUDA_R_16F, cols, beta, out, CUDA_R_32F, rows, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx"));
    }

    /**
     * Starts timing every launch and GEMM on the GPU, by kernel name (GEMMs by shape). Each then waits for
     * the one before, so a profile shows where a step's time goes, not how fast it runs; never inside a
     * graph capture.
     */
    public synchronized void startProfile() {
        profile = new LinkedHashMap<>();
    }

    /** Stops timing; per kernel, {calls, GPU milliseconds}. */
    public synchronized Map<String, double[]> stopProfile() {
        Map<String, double[]> out = profile == null ? Map.of() : profile;
        profile = null;
        return out;
    }

    /** Runs {@code launch}, timed under {@code name} while a profile is on (the name is only made then). */
    private void timed(Supplier<String> name, Runnable launch) {
        if (profile == null) {
            launch.run();
            return;
        }
        check(cudaEventRecord(before, stream), "cudaEventRecord");
        launch.run();
        check(cudaEventRecord(after, stream), "cudaEventRecord");
        check(cudaEventSynchronize(after), "cudaEventSynchronize");
        float[] ms = new float[1];
        check(cudaEventElapsedTime(ms, before, after), "cudaEventElapsedTime");
        double[] entry = profile.computeIfAbsent(name.get(), k -> new double[2]);
        entry[0]++;
        entry[1] += ms[0];
    }

    /** Fills {@code halves} fp16 values at {@code dst} uniformly in [-scale, scale) from a hash of their index and {@code seed}. */
    void fillRandom(Pointer dst, long halves, int seed, float scale) {
        kernels.launch("fill_random", blocks(halves, 256), 1, 256, dst, halves, seed, scale);
    }

    /** Blocks of {@code threads} for a grid-stride loop over {@code n} elements: one each, at most 65535. */
    static int blocks(long n, int threads) {
        return (int) Math.min((n + threads - 1) / threads, 65535);
    }

    /** Launches a kernel of llama.cu; arguments are device pointers, ints, longs or floats. */
    void launch(String kernel, int gridX, int gridY, int block, Object... args) {
        kernels.launch(kernel, gridX, gridY, block, args);
    }

    void launch(String kernel, int[] grid, int block, Object... args) {
        kernels.launch(kernel, grid, block, args);
    }

    /** A captured sequence of launches, replayed with one call: a decode step's hundreds of launches cost one. */
    final class Graph implements AutoCloseable {
        private final CUgraphExec_st exec;

        private Graph(CUgraphExec_st exec) {
            this.exec = exec;
        }

        void launch() {
            check(cudaGraphLaunch(exec, stream), "cudaGraphLaunch");
        }

        @Override
        public void close() {
            cudaGraphExecDestroy(exec);
        }
    }

    /**
     * Records the kernels and GEMMs {@code enqueue} launches, without running them, as a graph. Whatever
     * the launches point at must stay allocated while the graph is in use; nothing may be allocated,
     * copied or synchronized inside {@code enqueue}.
     */
    Graph capture(Runnable enqueue) {
        check(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
        CUgraph_st graph = new CUgraph_st();
        try {
            enqueue.run();
        } catch (RuntimeException e) {
            // The stream stays in capture mode until the capture ends, whatever went wrong inside it.
            if (cudaStreamEndCapture(stream, graph) == 0 && !graph.isNull()) {
                cudaGraphDestroy(graph);
            }
            throw e;
        }
        check(cudaStreamEndCapture(stream, graph), "cudaStreamEndCapture");
        CUgraphExec_st exec = new CUgraphExec_st();
        try {
            check(cudaGraphInstantiate(exec, graph, 0L), "cudaGraphInstantiate");
        } finally {
            cudaGraphDestroy(graph);
        }
        return new Graph(exec);
    }

    @Override
    public void close() {
        cublasDestroy_v2(blas);
        cudaEventDestroy(before);
        cudaEventDestroy(after);
        cudaStreamDestroy(stream);
        for (Pointer p : owned) {
            cudaFree(p);
        }
        owned.clear();
    }
}
