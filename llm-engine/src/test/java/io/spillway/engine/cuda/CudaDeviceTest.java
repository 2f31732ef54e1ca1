package io.spillway.engine.cuda;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CudaDeviceTest {

    @Test
    void kernelSourceShipsAsAResourceWithEveryKernelTheModelLaunches() {
        String source = CudaDevice.source(CudaDevice.KERNELS);
        for (String kernel : new String[] {"embed", "rmsnorm_half", "rmsnorm_rows_half", "rope_store", "attend_f16",
                "attend_combine", "add_bias", "silu_mul_half", "gemv_norm", "gemv_norm_swiglu", "bf16_to_half", "f32_to_half",
                "fill_random"}) {
            assertThat(source).as(kernel).containsPattern("extern \"C\" __global__ void (__launch_bounds__\\([^)]*\\) )?" + kernel + "\\(");
        }
        // NVRTC at runtime has no CUDA include directory.
        assertThat(source).doesNotContain("#include");
    }

    @Test
    void rotateKvKernelsShipWithTheSharedPreludeAndNoIncludes() {
        String source = CudaDevice.source("rotatekv.cu");
        for (String kernel : new String[] {"rkv_init", "rope_table", "rkv_append", "rkv_sinks", "rkv_truncate", "rkv_attend",
                "rkv_combine"}) {
            assertThat(source).as(kernel).containsPattern("extern \"C\" __global__ void (__launch_bounds__\\([^)]*\\) )?" + kernel + "\\(");
        }
        assertThat(source + CudaDevice.source(CudaDevice.PRELUDE)).doesNotContain("#include");
        assertThat(CudaDevice.source(CudaDevice.PRELUDE)).contains("__float2half", "block_sum");
    }

    @Test
    void compiledKernelsAreCachedPerSourceAndArchitecture() {
        assertThat(CudaDevice.cacheFile("a", "sm_90")).isNotEqualTo(CudaDevice.cacheFile("a", "sm_80"));
        assertThat(CudaDevice.cacheFile("a", "sm_90")).isNotEqualTo(CudaDevice.cacheFile("b", "sm_90"));
        assertThat(CudaDevice.cacheFile("a", "sm_90").getFileName().toString()).endsWith("-sm_90.cubin");
    }
}
