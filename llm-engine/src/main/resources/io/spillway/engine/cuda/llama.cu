// Kernels of the CUDA backend, compiled at startup by NVRTC for the device's architecture.
// Activations stay fp32 between kernels; GEMM inputs are fp16 (weights and the normed activations).
// The helpers (fp16 conversions, block_sum) are in common.cuh, compiled ahead of this file.
extern "C" __global__ void embed(const __half* table, const int* ids, float* x, int h) {
    const __half* row = table + (size_t) ids[blockIdx.x] * h;
    float* out = x + (size_t) blockIdx.x * h;
    loaded_turns<8>(h, [&](int i) { return row[i]; }, [&](int i, __half v) { out[i] = __half2float(v); });
}

// Block-wide: out = w * row / sqrt(mean(row^2) + eps), written as fp16 for the next GEMM. Four loads a thread in
// flight, not more: the GEMVs that normalize their own x hold their weights' first loads in registers meanwhile.
__device__ void rmsnorm_row(const float* row, const float* w, __half* out, int h, float eps) {
    float ss = 0;
    loaded_turns<4>(h, [&](int i) { return row[i]; }, [&](int, float v) { ss += v * v; });
    ss = block_sum(ss);
    float inv = (float) (1.0 / sqrt((double) (ss / h + eps)));
    loaded_turns<4>(h, [&](int i) { return make_float2(row[i], w[i]); },
                    [&](int i, float2 v) { out[i] = __float2half(v.y * (v.x * inv)); });
}

// One block per row.
extern "C" __global__ void rmsnorm_half(const float* x, const float* w, __half* out, int h, float eps) {
    rmsnorm_row(x + (size_t) blockIdx.x * h, w, out + (size_t) blockIdx.x * h, h, eps);
}

// Selected rows (final norm before the LM head): row r of the output is row rows[r] of x.
extern "C" __global__ void rmsnorm_rows_half(const float* x, const int* rows, const float* w, __half* out, int h, float eps) {
    rmsnorm_row(x + (size_t) rows[blockIdx.x] * h, w, out + (size_t) blockIdx.x * h, h, eps);
}

// One block of d/2 threads per (token, head), query heads first: RoPE (rotate_half pairing, angles in fp32 as
// transformers computes them; a token's q, k and v start `stride` floats after the previous token's, as the fused
// q/k/v GEMM writes them). A KV head's block then stores its keys and values as fp16 at the token's position in its
// cache. cache[t]: the page table of token t's sequence; a page holds, per layer, [K: kvHeads x PAGE x d]
// [V: kvHeads x PAGE x d] halves. A block a head, not a token, because a decode step has few tokens: one block
// walking a token's heads waited on its loads and stores in turn. (RotateKV caches take their RoPE in rotatekv.cu's
// rkv_append.)
extern "C" __global__ void rope_store(float* q, float* k, const float* v, const float* inv_freq,
                                      const int* pos, const unsigned long long* cache, int layer,
                                      int heads, int kv_heads, int d, int stride) {
    int t = blockIdx.x, head = blockIdx.y, i = threadIdx.x, half_dim = d / 2, p = pos[t];
    double angle = (float) p * inv_freq[i];
    float c = (float) cos(angle), s = (float) sin(angle);
    if (head < heads) {
        rope_pair(q + (size_t) t * stride + head * d, i, half_dim, c, s);
        return;
    }
    int kvh = head - heads;
    float* kh = k + (size_t) t * stride + kvh * d;
    const float* vh = v + (size_t) t * stride + kvh * d;
    rope_pair(kh, i, half_dim, c, s);
    __half* base = (__half*) page_at((const unsigned long long*) cache[t], p) + (size_t) layer * 2 * kv_heads * PAGE * d;
    __half* kc = base + ((size_t) kvh * PAGE + PAGE_SLOT(p)) * d;
    __half* vc = kc + (size_t) kv_heads * PAGE * d;
    kc[i] = __float2half(kh[i]);
    kc[i + half_dim] = __float2half(kh[i + half_dim]);
    vc[i] = __float2half(vh[i]);
    vc[i + half_dim] = __float2half(vh[i + half_dim]);
}

// Attention of one token's query-head group (the heads sharing KV head blockIdx.y) over chunk z of
// positions [0, pos] of its sequence's fp16 cache: each K and V row is read once for the whole group
// (GQA), and long contexts split over blockIdx.z so a small batch still fills the GPU (flash-decoding).
// The block takes the chunk in tiles of TILE positions, LPP lanes a position: a lane dots its quarter of the row
// with every head's query, so a score needs two shuffles, not a warp's five, and the tile's rows are all in flight
// together. A warp a head then updates that head's online softmax over the tile, and each thread adds the tile's
// values (staged in shared memory) to its outputs. One chunk: the normalized output, fp16. Several: each chunk's
// max, sum and unnormalized output go to `partial` for attend_combine.
#define WARPS 4
#define MAXD 4
#define MAXG 8
#define LPP 4
#define TILE (WARPS * 32 / LPP)
// A position's keys are read as a warp a position reads them (d / 32 dimensions a lane, "key lanes"): a lane here
// takes key lanes part, part + LPP, ..., so its score is that warp's, bit for bit, and greedy ids do not move.
#define KLANES (32 / LPP)
static_assert(KLANES == 8, "attend_f16 adds its key lanes' sums in the butterfly order of eight");
// Each thread's outputs: (head, dimension) pairs tid, tid + 128, ... of the group's g * d.
#define OUTS (MAXG * MAXD / WARPS)
extern "C" __global__ void __launch_bounds__(WARPS * 32) attend_f16(const float* q, int stride, const int* pos,
                                                                    const unsigned long long* cache, int layer, int heads,
                                                                    int kv_heads, int d, int chunk, float* partial, __half* out) {
    int t = blockIdx.x, kvh = blockIdx.y, z = blockIdx.z, g = heads / kv_heads, gd = g * d;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, slot = threadIdx.x / LPP, part = threadIdx.x % LPP;
    const unsigned long long* table = (const unsigned long long*) cache[t];
    // Within a page: this layer's keys of this KV head, and its values PAGE * d * kv_heads halves further.
    size_t head_at = (size_t) layer * 2 * kv_heads * PAGE * d + (size_t) kvh * PAGE * d, values = (size_t) kv_heads * PAGE * d;
    // A lane's 8-half pieces of a value row are pieces part, part + LPP, ...: a position's lanes read 16 * LPP bytes
    // together.
    int pieces = d / (8 * LPP), per = d / 32;
    __shared__ __align__(16) float qs[MAXG][32 * MAXD];
    // Rows 8 halves longer than d, so one quarter-warp's stores of two positions fall in different banks.
    __shared__ __align__(16) __half vs[TILE][32 * MAXD + 8];
    __shared__ float ps[MAXG][TILE], ms[MAXG], ls[MAXG], corr[MAXG];
    float acc[OUTS];
#pragma unroll
    for (int k = 0; k < OUTS; k++) acc[k] = 0;
    // A tile's rows are loaded before the tile before it is weighed, the first before the queries are staged, so the
    // chain sequence table -> page -> row overlaps the work before it.
    int last = min(pos[t], z * chunk + chunk - 1);
    // Key lane m's d / 32 halves in kk[m] (from the low half up), values' pieces in vv.
    uint2 kk[KLANES];
    uint4 vv[MAXD];
    auto load_tile = [&](int j0) {
        int j = min(j0 + slot, last);
        const __half* kr = (const __half*) page_at(table, j) + head_at + (size_t) PAGE_SLOT(j) * d;
        const uint4* vr = (const uint4*) (kr + values);
#pragma unroll
        for (int m = 0; m < KLANES; m++) {
            const __half* e = kr + (part + m * LPP) * per;
            if (per == 4) kk[m] = *(const uint2*) e;
            else kk[m] = make_uint2(per == 2 ? *(const unsigned int*) e : *(const unsigned short*) e, 0);
        }
#pragma unroll
        for (int u = 0; u < MAXD; u++) if (u < pieces) vv[u] = vr[u * LPP + part];
    };
    if (z * chunk <= last) load_tile(z * chunk);
    float scale = rsqrtf((float) d);
    for (int e = threadIdx.x; e < gd; e += blockDim.x) qs[e / d][e % d] = q[(size_t) t * stride + (size_t) kvh * gd + e] * scale;
    if (threadIdx.x < MAXG) {
        ms[threadIdx.x] = NEG_INF;
        ls[threadIdx.x] = 0;
    }
    __syncthreads();
    for (int j0 = z * chunk; j0 <= last; j0 += TILE) {
#pragma unroll
        for (int u = 0; u < MAXD; u++) if (u < pieces) *(uint4*) &vs[slot][(u * LPP + part) * 8] = vv[u];
#pragma unroll
        for (int h = 0; h < MAXG; h++) {
            if (h < g) {
                // Each key lane's sum as that warp's lane makes it, then the warp's butterfly (xor 16, 8, 4 here,
                // then the shuffles' xor 2 and 1) in its order.
                float p[KLANES];
#pragma unroll
                for (int m = 0; m < KLANES; m++) {
                    const float* qh = &qs[h][(part + m * LPP) * per];
                    float kf[MAXD] = {__half2float((__half) (kk[m].x & 0xffff)),
                                      __half2float((__half) (kk[m].x >> 16)),
                                      __half2float((__half) (kk[m].y & 0xffff)),
                                      __half2float((__half) (kk[m].y >> 16))};
                    float sm = 0;
#pragma unroll
                    for (int i = 0; i < MAXD; i++) if (i < per) sm += qh[i] * kf[i];
                    p[m] = sm;
                }
                float s = ((p[0] + p[4]) + (p[2] + p[6])) + ((p[1] + p[5]) + (p[3] + p[7]));
#pragma unroll
                for (int o = LPP / 2; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffff, s, o);
                if (part == 0) ps[h][slot] = j0 + slot <= last ? s : NEG_INF;
            }
        }
        if (j0 + TILE <= last) load_tile(j0 + TILE);
        __syncthreads();
        for (int h = warp; h < g; h += WARPS) {
            float s = ps[h][lane], mt = s;
            for (int o = 16; o > 0; o >>= 1) mt = fmaxf(mt, __shfl_xor_sync(0xffffffff, mt, o));
            float mn = fmaxf(ms[h], mt), p = expf(s - mn), sum = p;
            for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffff, sum, o);
            ps[h][lane] = p;
            if (lane == 0) {
                float c = expf(ms[h] - mn);
                corr[h] = c;
                ls[h] = ls[h] * c + sum;
                ms[h] = mn;
            }
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < OUTS; k++) {
            int o = threadIdx.x + k * WARPS * 32;
            if (o < gd) {
                int h = o / d, i = o % d;
                // Four interleaved sums, added pairwise: shorter chains, both in latency and in rounding.
                float a[4] = {0, 0, 0, 0};
#pragma unroll
                for (int r = 0; r < TILE; r += 4) {
#pragma unroll
                    for (int c = 0; c < 4; c++) a[c] = fmaf(ps[h][r + c], __half2float(vs[r + c][i]), a[c]);
                }
                acc[k] = acc[k] * corr[h] + ((a[0] + a[1]) + (a[2] + a[3]));
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int k = 0; k < OUTS; k++) {
        int o = threadIdx.x + k * WARPS * 32;
        if (o < gd) {
            int h = o / d, i = o % d, head = kvh * g + h;
            if (gridDim.z == 1) {
                out[((size_t) t * heads + head) * d + i] = __float2half(acc[k] / ls[h]);
            } else {
                float* p = partial + (((size_t) t * heads + head) * gridDim.z + z) * (d + 2);
                if (i == 0) { p[0] = ms[h]; p[1] = ls[h]; }
                p[2 + i] = acc[k];
            }
        }
    }
}

// Merges attend_f16's chunks of one (token, head): block of d threads, one output dimension each.
extern "C" __global__ void attend_combine(const float* partial, int splits, int heads, int d, __half* out) {
    int t = blockIdx.x, head = blockIdx.y;
    float o = combine_chunks(partial + ((size_t) t * heads + head) * splits * (d + 2), splits, d, threadIdx.x);
    out[((size_t) t * heads + head) * d + threadIdx.x] = __float2half(o);
}

// Prefill attention on the tensor cores (mma m16n8k16: fp16 in, fp32 sums), flash-attention style. A block takes a
// tile of one sequence's consecutive query tokens and one KV head; its rows are (token, query head of that KV head)
// pairs, 16 a warp, so each tile of keys and values staged in shared memory serves every token and head of the group,
// where decode's kernels would read every cached row once per query token. Keys (RoPE applied) and values are fp16
// rows [kv_head][positions][D] starting layer_off halves past where kv[t] points: with cap 0, the pages (PAGE
// positions each) of an fp16 cache, kv[t] its page table; else cap contiguous positions from kv[t], the rows a
// 2-bit cache decodes to. Token t sees positions [0, pos[t]]. tiles[blockIdx.x] = (first token, tokens); the output is fp16 per (token, head).
#define PF_WARPS 4
#define PF_ROWS (16 * PF_WARPS)
// A tile of keys is one page of a paged cache.
#define PF_KEYS PAGE
// Queries and probabilities go in as two fp16 terms each (value and rounding remainder): the products with fp16
// keys and values are then as exact as fp32, which greedy parity with transformers' fp32 needs (one fp16 term flips
// near-ties). Twice the MMAs; 0 takes one term.
#ifndef PF_SPLIT
#define PF_SPLIT 1
#endif

__device__ __forceinline__ unsigned int pack_halves(float lo, float hi) {
    return (unsigned int) __float2half(lo) | ((unsigned int) __float2half(hi) << 16);
}

// What pack_halves(lo, hi) leaves out of each.
__device__ __forceinline__ unsigned int pack_remainders(float lo, float hi) {
    return pack_halves(lo - __half2float(__float2half(lo)), hi - __half2float(__float2half(hi)));
}

__device__ __forceinline__ void mma_16816(float* c, const unsigned int* a, unsigned int b0, unsigned int b1) {
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// Fragment layouts as the PTX ISA gives them for m16n8k16: lane = 4 * gid + tig; A and C rows gid and gid + 8,
// columns 2 tig (+ 1) and, for A, + 8; B column gid, rows 2 tig (+ 1) and + 8.
template <int D>
__device__ void attend_prefill(const float* q, int stride, const int* pos, const unsigned long long* kv, long long layer_off,
                               int cap, int heads, int kv_heads, const int2* tiles, __half* out) {
    constexpr int KS = D / 16, DN = D / 8, LD = D + 8, NT = PF_KEYS / 8;
    // Rows LD halves apart put the lanes' fragment loads in distinct banks.
    __shared__ __align__(16) __half ks[PF_KEYS * LD], vs[PF_KEYS * LD];
    int2 tile = tiles[blockIdx.x];
    int kvh = blockIdx.y, g = heads / kv_heads;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, gid = lane >> 2, tig = lane & 3;
    int tok[2], head[2], p[2];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        int r = warp * 16 + gid + 8 * i;
        tok[i] = r / g < tile.y ? tile.x + r / g : -1;
        head[i] = kvh * g + r % g;
        p[i] = tok[i] < 0 ? -1 : pos[tok[i]];
    }
    float scale = rsqrtf((float) D);
    unsigned int qa[PF_SPLIT + 1][KS][4];
#pragma unroll
    for (int kk = 0; kk < KS; kk++) {
#pragma unroll
        for (int f = 0; f < 4; f++) {
            int i = f & 1, col = kk * 16 + 2 * tig + 8 * (f >> 1);
            const float* qr = q + (size_t) tok[i] * stride + head[i] * D + col;
            float x0 = tok[i] < 0 ? 0 : qr[0] * scale, x1 = tok[i] < 0 ? 0 : qr[1] * scale;
            qa[0][kk][f] = pack_halves(x0, x1);
#if PF_SPLIT
            qa[1][kk][f] = pack_remainders(x0, x1);
#endif
        }
    }
    int last = pos[tile.x + tile.y - 1];
    float o[DN][4], m[2] = {NEG_INF, NEG_INF}, l[2] = {0, 0};
#pragma unroll
    for (int n = 0; n < DN; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0;
    for (int k0 = 0; k0 <= last; k0 += PF_KEYS) {
        __syncthreads();
        // The tile's rows: one page of a paged cache (cap 0), or rows k0.. of cap contiguous ones.
        const __half* kt = cap == 0 ? (const __half*) page_at((const unsigned long long*) kv[tile.x], k0) + layer_off + (size_t) kvh * PAGE * D
                                    : (const __half*) kv[tile.x] + layer_off + ((size_t) kvh * cap + k0) * D;
        const __half* vt = kt + (size_t) kv_heads * (cap == 0 ? PAGE : cap) * D;
        // Rows past the tile's last position are zeros: a masked score times garbage could still be NaN.
        for (int i = threadIdx.x; i < PF_KEYS * D / 8; i += blockDim.x) {
            int r = i / (D / 8), c = i % (D / 8) * 8;
            uint4 kx = make_uint4(0, 0, 0, 0), vx = kx;
            if (k0 + r <= last) {
                kx = *(const uint4*) (kt + (size_t) r * D + c);
                vx = *(const uint4*) (vt + (size_t) r * D + c);
            }
            *(uint4*) (ks + r * LD + c) = kx;
            *(uint4*) (vs + r * LD + c) = vx;
        }
        __syncthreads();
        if (__all_sync(0xffffffff, max(p[0], p[1]) < k0)) continue;
        float s[NT][4];
#pragma unroll
        for (int n = 0; n < NT; n++) {
            s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0;
            const __half* kr = ks + (n * 8 + gid) * LD + 2 * tig;
#pragma unroll
            for (int kk = 0; kk < KS; kk++) {
                unsigned int b0 = *(const unsigned int*) (kr + kk * 16), b1 = *(const unsigned int*) (kr + kk * 16 + 8);
#pragma unroll
                for (int part = 0; part <= PF_SPLIT; part++) mma_16816(s[n], qa[part][kk], b0, b1);
            }
        }
        float mx[2] = {m[0], m[1]};
#pragma unroll
        for (int n = 0; n < NT; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                if (k0 + n * 8 + 2 * tig + (e & 1) > p[e >> 1]) s[n][e] = NEG_INF;
                mx[e >> 1] = fmaxf(mx[e >> 1], s[n][e]);
            }
        }
        float base[2];
#pragma unroll
        for (int i = 0; i < 2; i++) {
            mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffff, mx[i], 1));
            mx[i] = fmaxf(mx[i], __shfl_xor_sync(0xffffffff, mx[i], 2));
            // A row that has seen nothing yet keeps zero sums (exp(-inf) = 0) rather than NaN from -inf - -inf.
            base[i] = mx[i] == NEG_INF ? 0 : mx[i];
            float corr = expf(m[i] - base[i]);
            m[i] = mx[i];
            l[i] *= corr;
#pragma unroll
            for (int n = 0; n < DN; n++) {
                o[n][2 * i] *= corr;
                o[n][2 * i + 1] *= corr;
            }
        }
#pragma unroll
        for (int n = 0; n < NT; n++) {
#pragma unroll
            for (int e = 0; e < 4; e++) {
                s[n][e] = expf(s[n][e] - base[e >> 1]);
                l[e >> 1] += s[n][e];
            }
        }
        // Two score tiles side by side are one A fragment of P.
#pragma unroll
        for (int kk = 0; kk < PF_KEYS / 16; kk++) {
            unsigned int pa[PF_SPLIT + 1][4] = {
                {pack_halves(s[2 * kk][0], s[2 * kk][1]), pack_halves(s[2 * kk][2], s[2 * kk][3]),
                 pack_halves(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_halves(s[2 * kk + 1][2], s[2 * kk + 1][3])},
#if PF_SPLIT
                {pack_remainders(s[2 * kk][0], s[2 * kk][1]), pack_remainders(s[2 * kk][2], s[2 * kk][3]),
                 pack_remainders(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack_remainders(s[2 * kk + 1][2], s[2 * kk + 1][3])}
#endif
            };
            const __half* vr = vs + (kk * 16 + 2 * tig) * LD + gid;
#pragma unroll
            for (int n = 0; n < DN; n++) {
                unsigned int b0 = (unsigned int) vr[n * 8] | ((unsigned int) vr[LD + n * 8] << 16);
                unsigned int b1 = (unsigned int) vr[8 * LD + n * 8] | ((unsigned int) vr[9 * LD + n * 8] << 16);
#pragma unroll
                for (int part = 0; part <= PF_SPLIT; part++) mma_16816(o[n], pa[part], b0, b1);
            }
        }
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        l[i] += __shfl_xor_sync(0xffffffff, l[i], 1);
        l[i] += __shfl_xor_sync(0xffffffff, l[i], 2);
        if (tok[i] < 0) continue;
        unsigned int* dst = (unsigned int*) (out + ((size_t) tok[i] * heads + head[i]) * D + 2 * tig);
#pragma unroll
        for (int n = 0; n < DN; n++) dst[n * 4] = pack_halves(o[n][2 * i] / l[i], o[n][2 * i + 1] / l[i]);
    }
}

#define ATTEND_PREFILL(D) \
    extern "C" __global__ void __launch_bounds__(PF_WARPS * 32) attend_prefill_##D(const float* q, int stride, const int* pos, \
            const unsigned long long* kv, long long layer_off, int cap, int heads, int kv_heads, const int2* tiles, __half* out) { \
        attend_prefill<D>(q, stride, pos, kv, layer_off, cap, heads, kv_heads, tiles, out); \
    }
ATTEND_PREFILL(32)
ATTEND_PREFILL(64)
ATTEND_PREFILL(96)
ATTEND_PREFILL(128)

// Matrix-vector products for decode steps of one or two tokens: out[t][r] (+)= x[t] . w[r], fp16 w and x, fp32 sums
// and output. Reading w is the whole cost, so each warp streams GV_ROWS rows in 16-byte loads (GV_UNROLL of
// each in flight, not kept in L1) and dots every chunk with each token's x. cols must be a multiple of 8.
#define GV_ROWS 2
#define GV_UNROLL 4

__device__ __forceinline__ uint4 load_stream(const uint4* p) {
    uint4 v;
    asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];" : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w) : "l"(p));
    return v;
}

__device__ __forceinline__ void halves8(uint4 v, float* f) {
    unsigned int w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        f[2 * i] = __half2float((__half) (w[i] & 0xffff));
        f[2 * i + 1] = __half2float((__half) (w[i] >> 16));
    }
}

// A lane's next chunks [c0, c0 + 32 GV_UNROLL) of each row of wr (zeros past the rows' end).
template <int NR>
__device__ __forceinline__ void load_chunks(uint4 wv[NR][GV_UNROLL], const uint4* const* wr, int c0, int chunks) {
#pragma unroll
    for (int u = 0; u < GV_UNROLL; u++)
#pragma unroll
        for (int i = 0; i < NR; i++)
            wv[i][u] = c0 + 32 * u < chunks ? load_stream(wr[i] + c0 + 32 * u) : make_uint4(0, 0, 0, 0);
}

// The dots of NR rows of w (row[i]) with each token's x, summed over the warp: every lane gets them. The lane's
// first chunks are in flight before `ready` runs, so what it prepares (x in shared memory) overlaps their latency.
template <int T, int NR, class Ready>
__device__ __forceinline__ void warp_dots(const __half* w, const int* row, const __half* x, int cols, float acc[NR][T],
                                          Ready ready) {
    int lane = threadIdx.x & 31;
    int chunks = cols / 8;
    const uint4* wr[NR];
#pragma unroll
    for (int i = 0; i < NR; i++) wr[i] = (const uint4*) (w + (size_t) row[i] * cols);
    const uint4* xv = (const uint4*) x;
#pragma unroll
    for (int i = 0; i < NR; i++)
#pragma unroll
        for (int t = 0; t < T; t++) acc[i][t] = 0;
    uint4 wv[NR][GV_UNROLL];
    load_chunks<NR>(wv, wr, lane, chunks);
    ready();
    for (int c0 = lane; c0 < chunks; c0 += 32 * GV_UNROLL) {
#pragma unroll
        for (int u = 0; u < GV_UNROLL; u++) {
            int c = c0 + 32 * u;
            if (c >= chunks) break;
#pragma unroll
            for (int t = 0; t < T; t++) {
                float xf[8];
                halves8(xv[(size_t) t * chunks + c], xf);
#pragma unroll
                for (int i = 0; i < NR; i++) {
                    float wf[8];
                    halves8(wv[i][u], wf);
#pragma unroll
                    for (int e = 0; e < 8; e++) acc[i][t] = fmaf(wf[e], xf[e], acc[i][t]);
                }
            }
        }
        if (c0 + 32 * GV_UNROLL < chunks) load_chunks<NR>(wv, wr, c0 + 32 * GV_UNROLL, chunks);
    }
#pragma unroll
    for (int i = 0; i < NR; i++)
#pragma unroll
        for (int t = 0; t < T; t++)
            for (int o = 16; o > 0; o >>= 1) acc[i][t] += __shfl_xor_sync(0xffffffff, acc[i][t], o);
}

template <int T>
__device__ void gemv(const __half* w, const __half* x, float* out, int rows, int cols, int add) {
    int r0 = (blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5)) * GV_ROWS;
    if (r0 >= rows) return;
    int row[GV_ROWS];
#pragma unroll
    for (int i = 0; i < GV_ROWS; i++) row[i] = min(r0 + i, rows - 1);
    float acc[GV_ROWS][T];
    warp_dots<T, GV_ROWS>(w, row, x, cols, acc, [] {});
    if ((threadIdx.x & 31) != 0) return;
#pragma unroll
    for (int i = 0; i < GV_ROWS; i++) {
#pragma unroll
        for (int t = 0; t < T; t++) {
            if (r0 + i < rows) {
                float* dst = out + (size_t) t * rows + r0 + i;
                *dst = add ? *dst + acc[i][t] : acc[i][t];
            }
        }
    }
}

__device__ __forceinline__ float silu_mul(float g, float u) {
    return g / (1.0f + expf(-g)) * u;
}

#define GEMV(T) \
    extern "C" __global__ void __launch_bounds__(256, 4) gemv_##T(const __half* w, const __half* x, float* out, int rows, int cols, int add) { \
        gemv<T>(w, x, out, rows, cols, add); \
    }
GEMV(1)
GEMV(2)

// One-token steps fold the small kernels around their GEMVs into them, each a launch and a pass over the activations
// fewer, with the bits of the kernels they replace: gemv_norm normalizes x as rmsnorm_half does, into cols halves of
// dynamic shared memory, before its products; gemv_norm_swiglu also dots gate row r and up row inter + r in one warp
// and writes silu(gate) * up as fp16, as silu_mul_half does. Each block normalizes x once, while its first rows'
// loads are in flight, then takes its turns over the rows' blocks (gridDim.x apart), so the launch is at most as
// many blocks as fit the GPU at once: every block's own pass over x is a read of the activations from L2 that the
// weights' stream waits for. A block's warps all take part in the norm and in every turn, clamped to the last rows
// past the end, writing nothing there. GEMVs are held to 64 registers a thread, 4 blocks an SM.
extern __shared__ __align__(16) __half gemv_x[];

__device__ __forceinline__ void norm_shared(const float* x, const float* norm, float eps, int cols) {
    rmsnorm_row(x, norm, gemv_x, cols, eps);
    __syncthreads();
}

extern "C" __global__ void __launch_bounds__(256, 4) gemv_norm(const __half* w, const float* x, const float* norm, float eps,
                                                               float* out, int rows, int cols) {
    int warps = blockDim.x >> 5;
    for (int b = blockIdx.x; b * warps * GV_ROWS < rows; b += gridDim.x) {
        int r0 = (b * warps + (threadIdx.x >> 5)) * GV_ROWS, row[GV_ROWS];
        for (int i = 0; i < GV_ROWS; i++) row[i] = min(r0 + i, rows - 1);
        float acc[GV_ROWS][1];
        warp_dots<1, GV_ROWS>(w, row, gemv_x, cols, acc, [&] { if (b == blockIdx.x) norm_shared(x, norm, eps, cols); });
        if ((threadIdx.x & 31) == 0)
            for (int i = 0; i < GV_ROWS && r0 + i < rows; i++) out[r0 + i] = acc[i][0];
    }
}

extern "C" __global__ void __launch_bounds__(256, 4) gemv_norm_swiglu(const __half* w, const float* x, const float* norm,
                                                                      float eps, __half* act, int inter, int cols) {
    int warps = blockDim.x >> 5;
    for (int b = blockIdx.x; b * warps < inter; b += gridDim.x) {
        int r = b * warps + (threadIdx.x >> 5), row[2] = {min(r, inter - 1), min(r, inter - 1) + inter};
        float acc[2][1];
        warp_dots<1, 2>(w, row, gemv_x, cols, acc, [&] { if (b == blockIdx.x) norm_shared(x, norm, eps, cols); });
        if ((threadIdx.x & 31) == 0 && r < inter) act[r] = __float2half(silu_mul(acc[0][0], acc[1][0]));
    }
}

// Random weights for benchmarks of real shapes: uniform in [-scale, scale) from a hash of the index.
extern "C" __global__ void fill_random(__half* out, long long n, unsigned int seed, float scale) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        unsigned int x = (unsigned int) i * 2654435761u ^ seed ^ (unsigned int) (i >> 32) * 40503u;
        x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
        out[i] = __float2half(((x >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f) * scale);
    }
}

extern "C" __global__ void add_bias(float* x, const float* b, int width, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        x[i] += b[i % width];
}

// SwiGLU: silu(gate) * up, as fp16 for the down-projection. Each token's row of gate_up is its gate
// projection then its up projection (one GEMM makes both), `inter` values each.
extern "C" __global__ void silu_mul_half(const float* gate_up, __half* out, int inter, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x) {
        const float* row = gate_up + i / inter * 2 * inter;
        out[i] = __float2half(silu_mul(row[i % inter], row[inter + i % inter]));
    }
}

extern "C" __global__ void bf16_to_half(const unsigned short* in, __half* out, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = __float2half(__uint_as_float(((unsigned int) in[i]) << 16));
}

extern "C" __global__ void f32_to_half(const float* in, __half* out, long long n) {
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < n; i += (long long) gridDim.x * blockDim.x)
        out[i] = __float2half(in[i]);
}

// The index of the row's largest value, the lowest index on ties, or -1 when the row holds NaN (which
// no comparison would notice); every thread of the block gets it.
__device__ int block_argmax(const float* row, int vocab) {
    __shared__ float sv[32];
    __shared__ int si[32];
    float best = NEG_INF;
    int at = 0x7fffffff;
    bool nan = false;
    loaded_turns<8>(vocab, [&](int i) { return row[i]; }, [&](int i, float x) {
        nan |= x != x;
        if (x > best) { best = x; at = i; }
    });
    if (__syncthreads_or(nan)) return -1;
    for (int o = 16; o > 0; o >>= 1) {
        float v = __shfl_xor_sync(0xffffffff, best, o);
        int j = __shfl_xor_sync(0xffffffff, at, o);
        if (v > best || (v == best && j < at)) { best = v; at = j; }
    }
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    __syncthreads();
    if (lane == 0) { sv[warp] = best; si[warp] = at; }
    __syncthreads();
    best = sv[0];
    at = si[0];
    for (int w = 1; w < (int) (blockDim.x >> 5); w++) {
        if (sv[w] > best || (sv[w] == best && si[w] < at)) { best = sv[w]; at = si[w]; }
    }
    return at;
}

// Greedy sampling on the GPU: one block per row, so a decode step copies one int per sequence to the
// host instead of the vocabulary's logits.
extern "C" __global__ void argmax_rows(const float* logits, int vocab, int* out) {
    int at = block_argmax(logits + (size_t) blockIdx.x * vocab, vocab);
    if (threadIdx.x == 0) out[blockIdx.x] = at;
}

// Float bits as an unsigned key in the floats' order.
__device__ __forceinline__ unsigned int order_key(float f) {
    unsigned int k = __float_as_uint(f);
    return (k & 0x80000000u) ? ~k : (k | 0x80000000u);
}

// The sum of v over lanes 0 to this one (an inclusive scan across the warp).
__device__ __forceinline__ float warp_sum_through(float v) {
    int lane = threadIdx.x & 31;
    for (int o = 1; o < 32; o <<= 1) {
        float t = __shfl_up_sync(0xffffffff, v, o);
        if (lane >= o) v += t;
    }
    return v;
}

// Radix select, 8 bits a pass from the top: the largest key whose tokens, with every larger key's,
// reach `target` (counts when weights is false, else the tokens' weights exp((logit - mx) * inv_t)),
// among keys >= floor. Every thread of the block gets it; 0 keeps everything when nothing reaches it.
// Logits share their top bits, so a pass's adds crowd into a few bins: each lane adds into its own copy of
// the histogram (HIST_STRIDE apart, so the copies of one bin sit in different banks), else a warp's 32 adds
// to one bin would be served one after another.
#define HIST_STRIDE 33
__device__ unsigned int select_key(const float* row, int vocab, unsigned int floor, bool weights, float mx,
                                   float inv_t, float target) {
    __shared__ float hist[256 * HIST_STRIDE];
    __shared__ unsigned int chosen;
    __shared__ float above;
    unsigned int prefix = 0, mask = 0;
    int lane = threadIdx.x & 31;
    if (threadIdx.x == 0) above = 0;
    for (int shift = 24; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256 * HIST_STRIDE; b += blockDim.x) hist[b] = 0;
        __syncthreads();
        loaded_turns<8>(vocab, [&](int i) { return row[i]; }, [&](int, float x) {
            unsigned int k = order_key(x);
            if (k >= floor && (k & mask) == prefix)
                atomicAdd(&hist[((k >> shift) & 255) * HIST_STRIDE + lane], weights ? expf((x - mx) * inv_t) : 1.0f);
        });
        __syncthreads();
        for (int b = threadIdx.x; b < 256; b += blockDim.x) {
            float s = 0;
            for (int l = 0; l < 32; l++) s += hist[b * HIST_STRIDE + l];
            hist[b * HIST_STRIDE] = s;
        }
        __syncthreads();
        // One warp walks the bins from the top: lane l sums bins 255 - 8l down to 248 - 8l, a scan over the
        // lanes finds the lane where the target is reached, and that lane finds the bin.
        if (threadIdx.x < 32) {
            float v[8], mine = 0;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                v[j] = hist[(255 - 8 * lane - j) * HIST_STRIDE];
                mine += v[j];
            }
            float through = warp_sum_through(mine);
            float before = __shfl_up_sync(0xffffffff, through, 1);
            unsigned int reached = __ballot_sync(0xffffffff, above + through >= target);
            int at = reached ? __ffs(reached) - 1 : 31;
            if (lane == at) {
                float a = above + (lane > 0 ? before : 0);
                int b = 255 - 8 * lane;
                for (int j = 0; j < 8 && b > 0 && a + v[j] < target; j++, b--) a += v[j];
                chosen = (unsigned int) b;
                above = a;
            }
        }
        __syncthreads();
        prefix |= chosen << shift;
        mask |= 255u << shift;
    }
    return prefix;
}

// The float whose order_key is k.
__device__ __forceinline__ float key_value(unsigned int k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

// A warp's pass over row[from, to), 32 ids a turn in id order (lane l takes from + 32t + l), LOADS turns'
// loads issued before any is used: use(i, x, in) for each, where `in` is false past `to` (x is then -inf).
// Every lane of the warp calls use on every turn, so use may vote with the warp (ballots, shuffles).
template <int LOADS, class Use>
__device__ __forceinline__ void warp_turns(const float* row, int from, int to, Use use) {
    int lane = threadIdx.x & 31;
    for (int i0 = from; i0 < to; i0 += LOADS * 32) {
        float v[LOADS];
#pragma unroll
        for (int u = 0; u < LOADS; u++) {
            int i = i0 + 32 * u + lane;
            v[u] = i < to ? row[i] : NEG_INF;
        }
#pragma unroll
        for (int u = 0; u < LOADS; u++) {
            int i = i0 + 32 * u + lane;
            use(i, v[u], i < to);
        }
    }
}

// Sampling on the GPU with the host Sampler's filters, in HF's order: temperature, top-k (ties with the
// k-th kept), top-p over what top-k left (of the tokens tied at its boundary, as the host sorts them: by id,
// while the mass before them is below top_p's), min-p, then the token where u times the kept mass falls, in
// id order. One block per row; per row params = {temperature, top_p, min_p, u} and top_k (0: off).
// Temperature 0 is greedy: the argmax.
extern "C" __global__ void sample_rows(const float* logits, int vocab, const float4* params, const int* top_k, int* out) {
    const float* row = logits + (size_t) blockIdx.x * vocab;
    float4 p = params[blockIdx.x];
    int best = block_argmax(row, vocab);
    float mx = best < 0 ? 0 : row[best];
    if (best < 0 || p.x == 0 || isinf(mx)) {
        if (threadIdx.x == 0) out[blockIdx.x] = best;
        return;
    }
    float inv_t = 1.0f / p.x;
    int k = top_k[blockIdx.x];
    unsigned int floor = k > 0 && k < vocab ? select_key(row, vocab, 0, false, mx, inv_t, (float) k) : 0;
    // The draw walks ids in order: warp w takes the w-th of 32 equal runs of them, so that its loads are coalesced.
    __shared__ float run[32];
    __shared__ int tied_before[32];
    __shared__ int owner;
    __shared__ float rest;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    int per = ((vocab + warps - 1) / warps + 31) & ~31, from = min(vocab, warp * per), to = min(vocab, from + per);
    unsigned int lanes_below = (1u << lane) - 1;
    int tied_kept = 0x7fffffff, ties_before = 0;
    if (p.y < 1) {
        float mass = 0;
        loaded_turns<8>(vocab, [&](int i) { return row[i]; }, [&](int, float x) {
            if (order_key(x) >= floor) mass += expf((x - mx) * inv_t);
        });
        mass = block_sum(mass);
        floor = select_key(row, vocab, floor, true, mx, inv_t, p.y * mass);
        // Tokens tied at the boundary weigh the same: the first ceil((target - above) / w) of them reach the target.
        float above = 0;
        int tied = 0;
        warp_turns<8>(row, from, to, [&](int, float x, bool in) {
            unsigned int key = order_key(x);
            if (in && key > floor) above += expf((x - mx) * inv_t);
            tied += __popc(__ballot_sync(0xffffffff, in && key == floor));
        });
        if (lane == 0) tied_before[warp] = tied;
        above = block_sum(above);
        tied_kept = max(1, (int) ceilf((p.y * mass - above) / expf((key_value(floor) - mx) * inv_t)));
        if (threadIdx.x == 0) {
            int before = 0;
            for (int w = 0; w < warps; w++) {
                int n = tied_before[w];
                tied_before[w] = before;
                before += n;
            }
        }
        __syncthreads();
        ties_before = tied_before[warp];
    }
    // A token is kept when it passed the filters, and then weighs w; `seen` counts the ties before it.
    auto kept = [&](float x, bool in, int& seen, float& w) {
        unsigned int key = order_key(x);
        unsigned int ties = __ballot_sync(0xffffffff, in && key == floor);
        int rank = seen + __popc(ties & lanes_below);
        seen += __popc(ties);
        w = expf((x - mx) * inv_t);
        return in && (key > floor || (key == floor && rank < tied_kept)) && w >= p.z;
    };
    float sum = 0;
    int seen = ties_before;
    warp_turns<8>(row, from, to, [&](int, float x, bool in) {
        float w;
        if (kept(x, in, seen, w)) sum += w;
    });
    for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffff, sum, o);
    if (lane == 0) run[warp] = sum;
    __syncthreads();
    if (threadIdx.x == 0) {
        float total = 0;
        for (int t = 0; t < warps; t++) total += run[t];
        float target = p.w * total, before = 0;
        owner = -1;
        for (int t = 0; t < warps; t++) {
            if (run[t] > 0) {
                owner = t;
                if (target < before + run[t]) break;
            }
            before += run[t];
        }
        rest = target - before;
        if (owner < 0) out[blockIdx.x] = best;
    }
    __syncthreads();
    if (warp == owner) {
        // The owner walks its run 32 tokens at a time: a scan of the turn's kept weights finds where rest falls.
        int last = best;
        float before = 0;
        bool found = false;
        seen = ties_before;
        warp_turns<8>(row, from, to, [&](int i, float x, bool in) {
            if (found) return;
            float w;
            bool keep = kept(x, in, seen, w);
            float through = warp_sum_through(keep ? w : 0);
            unsigned int hit = __ballot_sync(0xffffffff, keep && rest < before + through);
            unsigned int kept_lanes = __ballot_sync(0xffffffff, keep);
            if (hit) {
                last = __shfl_sync(0xffffffff, i, __ffs(hit) - 1);
                found = true;
            } else if (kept_lanes) {
                last = __shfl_sync(0xffffffff, i, 31 - __clz(kept_lanes));
            }
            before += __shfl_sync(0xffffffff, through, 31);
        });
        // Rounding can leave the target just past the run's sum: its last kept token takes it.
        if (lane == 0) out[blockIdx.x] = last;
    }
}
