// Shared by every kernel resource: CudaDevice compiles this prelude ahead of each of them.
// No headers: NVRTC at runtime has no CUDA include directory, so fp16 is a bit pattern converted with PTX.
typedef unsigned short __half;

__device__ __forceinline__ float __half2float(__half h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ __half __float2half(float f) {
    __half h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}

#define NEG_INF __int_as_float(0xff800000)

// Paged KV caches: a sequence's positions live in pages of PAGE positions (every layer's rows of them), found
// through its table of page addresses; CudaCache.PAGE is the same number.
#define PAGE 64
#define PAGE_SHIFT 6
#define PAGE_SLOT(j) ((j) & (PAGE - 1))

__device__ __forceinline__ unsigned long long page_at(const unsigned long long* table, int j) {
    return table[j >> PAGE_SHIFT];
}

// A block's pass over [0, n), thread by thread in the order of a plain `for (i = threadIdx.x; i < n; i += blockDim.x)`
// loop: use(i, load(i)) for each i, but LOADS loads issued before any is used. The plain loop waits on memory once per
// element, which at a decode step's one row (16 elements a thread at 4096 columns) made small kernels and the GEMVs
// that normalize their own input microseconds slower than their bytes.
template <int LOADS, class Load, class Use>
__device__ __forceinline__ void loaded_turns(int n, Load load, Use use) {
    for (int i0 = threadIdx.x; i0 < n; i0 += LOADS * blockDim.x) {
        decltype(load(0)) v[LOADS];
#pragma unroll
        for (int u = 0; u < LOADS; u++) {
            int i = i0 + u * blockDim.x;
            if (i < n) v[u] = load(i);
        }
#pragma unroll
        for (int u = 0; u < LOADS; u++) {
            int i = i0 + u * blockDim.x;
            if (i < n) use(i, v[u]);
        }
    }
}

__device__ float block_sum(float v) {
    __shared__ float part[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    float s = 0;
    for (int w = 0; w < (int) (blockDim.x >> 5); w++) s += part[w];
    return s;
}

// RoPE of the pair (x1, x2) at angle (cos c, sin s), with its one FMA spelled out: left to itself the compiler fuses
// one product or the other into an FMA depending on the code around it, so restructuring rkv_append moved 2-bit greedy
// ids. These are the operations rope_pair compiles to (PTX); products are rounded with __fmul_rn so that ptxas fuses
// none of the others.
__device__ __forceinline__ float2 rotated(float x1, float x2, float c, float s) {
    return make_float2(__fmul_rn(x1, c) - __fmul_rn(x2, s), fmaf(x1, s, __fmul_rn(x2, c)));
}

__device__ void rope_pair(float* v, int i, int half_dim, float c, float s) {
    float x1 = v[i], x2 = v[i + half_dim];
    v[i] = x1 * c - x2 * s;
    v[i + half_dim] = x2 * c + x1 * s;
}

__device__ float block_max(float v) {
    __shared__ float part[32];
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) part[warp] = v;
    __syncthreads();
    float m = part[0];
    for (int w = 1; w < (int) (blockDim.x >> 5); w++) m = fmaxf(m, part[w]);
    return m;
}

// Merges the chunks of one (token, head) that a split decode attention left in p: per chunk its max,
// its sum (0 = no positions) and its unnormalized output of d values. Called by a block of d threads;
// returns dimension i, normalized. The chunks' weights are found together and kept in shared memory, so
// each thread's pass over the chunks is independent loads, not a chain of them.
#define MAX_SPLITS 1024
__device__ float combine_chunks(const float* p, int splits, int d, int i) {
    __shared__ float weight[MAX_SPLITS];
    float mx = NEG_INF;
    for (int z = threadIdx.x; z < splits; z += blockDim.x) if (p[z * (d + 2) + 1] > 0) mx = fmaxf(mx, p[z * (d + 2)]);
    mx = block_max(mx);
    float tot = 0;
    for (int z = threadIdx.x; z < splits; z += blockDim.x) {
        float sum = p[z * (d + 2) + 1];
        float w = sum > 0 ? expf(p[z * (d + 2)] - mx) : 0;
        weight[z] = w;
        tot += sum * w;
    }
    tot = block_sum(tot);
    float o = 0;
#pragma unroll 8
    for (int z = 0; z < splits; z++) o += p[z * (d + 2) + 2 + i] * weight[z];
    return o / tot;
}
