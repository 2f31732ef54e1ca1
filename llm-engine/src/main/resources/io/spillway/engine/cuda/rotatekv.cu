// RotateKV 2-bit KV caches on the GPU: quantize-on-append, attention-sink tracking, and a fused decode
// attention that reads packed 2-bit rows and dequantizes, un-rotates and applies RoPE in registers.
// Compiled by NVRTC per model shape and method, so every register array has a compile-time size:
//   HD head_dim, HEADS query heads, QPK query heads per KV head, KVD KV channels, HID hidden size,
//   RS channels of one key Hadamard group (RS/HD KV heads), KGROUP / VGROUP channels per quantization group,
//   NSINK sink activations tracked, KROT / VROT rotate keys / values, PREROPE keys quantized before RoPE,
//   QKVS floats per token of the q/k/v projections (one GEMM writes a token's q, k and v side by side).
//
// Numerics follow the CPU's QuantizedKvCache: keys rounded to fp16, Hadamard over RS channels, gathered
// by the calibrated order into groups; values Hadamard per head and rounded to fp16; asymmetric 2-bit
// groups with fp16 scale and minimum. The butterflies run in the CPU's stage order.
//
// Packed codes are stored by rotated channel, not by group slot, so that the attention kernel's lane
// layout reads them with one load: within each rotation group, lane L holds channels v*32 + L
// (v < RS/32), whose 2-bit codes form one little-endian word of RS/128 bytes. kgroup[c] names the
// quantization group (slot / KGROUP) that channel c was gathered into.

#define PER (RS / 32)
#define DPH (HD / 32)
#define GH (RS / HD * QPK)
#define WB (PER / 4)
#define NRG (KVD / RS)
#define NGK (KVD / KGROUP)
#define NGV (KVD / VGROUP)
// The value group of channel v * 32 + lane of rotation group rg: the same for every lane when groups span whole
// words of lanes, and then the compiler sees one load where PER channels share a group.
#if VGROUP % 32 == 0 && RS % VGROUP == 0
#define VSLOT(rg, v, lane) ((rg) * (RS / VGROUP) + (v) * 32 / VGROUP)
#else
#define VSLOT(rg, v, lane) (((rg) * RS + (v) * 32 + (lane)) / VGROUP)
#endif
#define WARPS 4
// Keys rotated per head after RoPE: q . (H k) = (H q) . k, so attention rotates each query once and reads
// packed keys as they are; only the fp16 window and sink rows (unrotated) are rotated, per position.
#define QROT (KROT && !PREROPE && RS == HD)
// Packed keys that attention un-rotates skip the Hadamard's norm, which the queries carry instead; window and sink
// rows (stored unrotated) are scaled up to match. The fp16 sums then reach at most sqrt(RS) times a group's key L2
// norm: fp16 would overflow only for key norms above 65504 / sqrt(RS) (2896 for 512 channels).
#if KROT && !QROT
#define KEY_NORM ((float) (1.0 / sqrt((double) RS)))
#else
#define KEY_NORM 1.0f
#endif
// Positions a warp takes at once: their loads in flight together, each query read from shared memory once for
// all of them. Per-head groups take 4 (paged caches, H200: 803.9 against 724.6 tok/s with 2 at 16K x 132). Wide
// groups take 2 in up to 255 registers, 2 blocks an SM (H100, 16K x 132: 701.8 against 619.0 tok/s with 1 in
// 168 registers and 3 blocks).
#ifndef PU
#define PU (PER <= 4 ? 4 : 2)
#endif
// Wide rotation groups (the default's 512 channels) are bound by the instructions each position takes: their codes
// unpack as fp16 pairs and each query is read once for both of a warp's positions. Per-head groups measured slower
// with either (H100, 16K x 132: 840.3 and 803.7 against 874.5 tok/s), so they convert code by code and score each
// position as it comes.
#define WIDE (PER > 4)
// The blocks an SM holds at once (__launch_bounds__' minimum): the register budget each thread gets.
#define ATTEND_BLOCKS (PER <= 4 ? 4 : 2)

// Byte offsets from CudaRotateKvCache (the single source of the layout). Per position, in the sequence's pages
// (PAGE positions each, every layer's sections of them: L_PSTRIDE a layer): packed codes, scales and minimums, sink
// slot. Per sequence, in the memory cache[t] points at (L_FSTRIDE a layer): the fp16 window, the sink rows and
// the tracker; its page table starts L_TABLE bytes in.
enum { L_PSTRIDE, L_KC, L_VC, L_KSM, L_VSM, L_FLAG, L_FSTRIDE, L_WK, L_WV, L_SK, L_SV, L_TRACK, L_TABLE };

__device__ __forceinline__ float round_half(float x) {
    return __half2float(__float2half(x));
}

// Java's Math.round: ties toward positive infinity.
__device__ __forceinline__ int round_half_up(float x) {
    float f = floorf(x);
    return (int) f + (x - f >= 0.5f ? 1 : 0);
}

// Normalized Walsh-Hadamard over each aligned group of `size` of the n values in shared memory.
__device__ void fwht_shared(float* x, int n, int size) {
    for (int h = 1; h < size; h <<= 1) {
        for (int j = threadIdx.x; j < n / 2; j += blockDim.x) {
            int i = j / h * 2 * h + j % h;
            float a = x[i], b = x[i + h];
            x[i] = a + b;
            x[i + h] = a - b;
        }
        __syncthreads();
    }
    float norm = (float) (1.0 / sqrt((double) size));
    for (int i = threadIdx.x; i < n; i += blockDim.x) x[i] *= norm;
    __syncthreads();
}

// A layer's per-sequence sections.
__device__ __forceinline__ unsigned char* layer_base(unsigned long long cache, const long long* lay, int layer) {
    return (unsigned char*) cache + (size_t) layer * lay[L_FSTRIDE];
}

// A layer's per-position sections in the page of position j (rows of it at PAGE_SLOT(j)).
__device__ __forceinline__ unsigned char* page_base(unsigned long long cache, const long long* lay, int layer, int j) {
    return (unsigned char*) page_at((const unsigned long long*) (cache + lay[L_TABLE]), j) + (size_t) layer * lay[L_PSTRIDE];
}

__device__ __forceinline__ signed char* sink_slot(unsigned long long cache, const long long* lay, int layer, int j) {
    return (signed char*) (page_base(cache, lay, layer, j) + lay[L_FLAG]) + PAGE_SLOT(j);
}

// A new page's positions are no sinks (one block per layer).
extern "C" __global__ void rkv_init_page(unsigned long long page, const long long* lay) {
    signed char* flag = (signed char*) (page + (size_t) blockIdx.x * lay[L_PSTRIDE] + lay[L_FLAG]);
    for (int i = threadIdx.x; i < PAGE; i += blockDim.x) flag[i] = -1;
}

// A new sequence's sink slots are free (one block per layer).
extern "C" __global__ void rkv_init(unsigned long long cache, const long long* lay) {
    unsigned char* base = layer_base(cache, lay, blockIdx.x);
    int* slot = (int*) (base + lay[L_TRACK]) + 2 * NSINK;
    for (int i = threadIdx.x; i < NSINK; i += blockDim.x) slot[i] = -1;
}

// cos and sin of every position's RoPE angles, computed as the CPU's Rope table is (fp32 angle, double trig).
extern "C" __global__ void rope_table(const float* inv_freq, int positions, float2* out) {
    for (long long n = blockIdx.x * (long long) blockDim.x + threadIdx.x; n < (long long) positions * (HD / 2);
         n += (long long) gridDim.x * blockDim.x) {
        int p = (int) (n / (HD / 2)), i = (int) (n % (HD / 2));
        float angle = (float) p * inv_freq[i];
        out[n] = make_float2((float) cos((double) angle), (float) sin((double) angle));
    }
}

// One block per token: applies RoPE to its query heads in place (and to its keys unless PREROPE), with the
// table's angles (those llama.cu's rope_store computes); rounds its keys to fp16, rotates and gathers them,
// rotates and rounds its values, packs both at its position, and keeps fp16 rows in the residual
// window when the position is at or past keep_from (its sequence's window start after this step).
// The rotated values go back to v, where rkv_sinks copies a sink's row from.
extern "C" __global__ void rkv_append(float* q, float* k, float* v, const int* pos, const int* keep_from,
                                      const unsigned long long* cache, const long long* lay, int layer, const int* order,
                                      const float2* rope_cs) {
    __shared__ float kx[KVD], kr[KVD], vx[KVD];
    __shared__ unsigned int kw[NRG * 32], vw[NRG * 32];
    int t = blockIdx.x, p = pos[t];
    // Pair j's first element: dimension j % (HD / 2) of query head j / (HD / 2), or past the query heads, of a KV head.
    auto pair = [&](int j) {
        int head = j / (HD / 2);
        return (head < HEADS ? q + (size_t) t * QKVS + head * HD : k + (size_t) t * QKVS + (head - HEADS) * HD) + j % (HD / 2);
    };
    loaded_turns<4>((HEADS + (PREROPE ? 0 : KVD / HD)) * (HD / 2), [&](int j) {
        const float* e = pair(j);
        float2 cs = rope_cs[(size_t) p * (HD / 2) + j % (HD / 2)];
        return make_float4(e[0], e[HD / 2], cs.x, cs.y);
    }, [&](int j, float4 v) {
        float2 r = rotated(v.x, v.y, v.z, v.w);
        float* e = pair(j);
        e[0] = r.x;
        e[HD / 2] = r.y;
    });
    __syncthreads();
    unsigned char* base = layer_base(cache[t], lay, layer);
    loaded_turns<4>(KVD, [&](int i) { return make_float2(k[(size_t) t * QKVS + i], v[(size_t) t * QKVS + i]); }, [&](int i, float2 kv) {
        float kk = round_half(kv.x);
        kx[i] = kk;
        kr[i] = kk;
        vx[i] = kv.y;
    });
    for (int i = threadIdx.x; i < NRG * 32; i += blockDim.x) {
        kw[i] = 0;
        vw[i] = 0;
    }
    __syncthreads();
#if VROT
    fwht_shared(vx, KVD, HD);
#endif
#if KROT
    fwht_shared(kr, KVD, RS);
#endif
    for (int i = threadIdx.x; i < KVD; i += blockDim.x) {
        float r = round_half(vx[i]);
        vx[i] = r;
        v[(size_t) t * QKVS + i] = r;
    }
    __syncthreads();
    int from = keep_from[t];
    if (p >= from) {
        __half* wk = (__half*) (base + lay[L_WK]) + (size_t) (p - from) * KVD;
        __half* wv = (__half*) (base + lay[L_WV]) + (size_t) (p - from) * KVD;
        for (int i = threadIdx.x; i < KVD; i += blockDim.x) {
            wk[i] = __float2half(kx[i]);
            wv[i] = __float2half(vx[i]);
        }
    }
    const int* ord = order ? order + (size_t) layer * KVD : 0;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
    unsigned char* page = page_base(cache[t], lay, layer, p);
    unsigned int* ksm = (unsigned int*) (page + lay[L_KSM]) + PAGE_SLOT(p) * NGK;
    unsigned int* vsm = (unsigned int*) (page + lay[L_VSM]) + PAGE_SLOT(p) * NGV;
    for (int g = warp; g < NGK + NGV; g += warps) {
        bool keys = g < NGK;
        int size = keys ? KGROUP : VGROUP, first = keys ? g * KGROUP : (g - NGK) * VGROUP;
        float lo = __int_as_float(0x7f800000), hi = NEG_INF;
        for (int s = lane; s < size; s += 32) {
            int c = keys && ord ? ord[first + s] : first + s;
            float x = keys ? kr[c] : vx[c];
            lo = fminf(lo, x);
            hi = fmaxf(hi, x);
        }
        for (int o = 16; o > 0; o >>= 1) {
            lo = fminf(lo, __shfl_xor_sync(0xffffffff, lo, o));
            hi = fmaxf(hi, __shfl_xor_sync(0xffffffff, hi, o));
        }
        __half minH = __float2half(lo), scaleH = __float2half((hi - lo) / 3.0f);
        float mn = __half2float(minH), scale = __half2float(scaleH);
        if (!(scale > 0) || isinf(scale)) {
            scale = 0;
            scaleH = 0;
        }
        float inv = scale == 0 ? 0 : 1.0f / scale;
        for (int s = lane; s < size; s += 32) {
            int c = keys && ord ? ord[first + s] : first + s;
            float x = keys ? kr[c] : vx[c];
            int code = min(3, max(0, round_half_up((x - mn) * inv)));
            int in = c % RS, w = c / RS * 32 + in % 32;
            atomicOr(keys ? &kw[w] : &vw[w], (unsigned int) code << (2 * (in / 32)));
        }
        if (lane == 0) (keys ? ksm[g] : vsm[g - NGK]) = (unsigned int) scaleH | ((unsigned int) minH << 16);
    }
    __syncthreads();
    unsigned char* kc = page + lay[L_KC] + PAGE_SLOT(p) * (KVD / 4);
    unsigned char* vc = page + lay[L_VC] + PAGE_SLOT(p) * (KVD / 4);
    for (int i = threadIdx.x; i < NRG * 32 * WB; i += blockDim.x) {
        kc[i] = (unsigned char) (kw[i / WB] >> (8 * (i % WB)));
        vc[i] = (unsigned char) (vw[i / WB] >> (8 * (i % WB)));
    }
}

// Attention sinks as RotateKV finds them: the NSINK hidden-state activations of largest magnitude seen
// in this layer's input; tokens owning one keep fp16 rows (up to NSINK slots), and a token displaced
// later goes back to its packed row. One block per sequence, its new tokens in order, as the CPU offers them.
// Track layout: mag[NSINK] ascending, pos[NSINK], slot position[NSINK] (-1 free), count.
#define SINK_BATCH 1024
extern "C" __global__ void rkv_sinks(const float* x, const float* k, const float* v, const int* seq_first,
                                     const int* seq_count, const int* pos, const unsigned long long* cache,
                                     const long long* lay, int layer) {
    __shared__ float mag[NSINK];
    __shared__ int mpos[NSINK], slot[NSINK];
    __shared__ int count, found, chosen;
    __shared__ unsigned int taken[(HID + 31) / 32];
    __shared__ bool offer[SINK_BATCH];
    __shared__ float wbest[32];
    __shared__ int wat[32];
    int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    int first = seq_first[blockIdx.x], n = seq_count[blockIdx.x];
    unsigned char* base = layer_base(cache[first], lay, layer);
    float* tmag = (float*) (base + lay[L_TRACK]);
    int* tpos = (int*) (tmag + NSINK);
    int* tslot = tpos + NSINK;
    __half* sk = (__half*) (base + lay[L_SK]);
    __half* sv = (__half*) (base + lay[L_SV]);
    for (int i = tid; i < NSINK; i += blockDim.x) {
        mag[i] = tmag[i];
        mpos[i] = tpos[i];
        slot[i] = tslot[i];
    }
    if (tid == 0) count = tslot[NSINK];
    __syncthreads();
    // Tokens are offered in batches: first, the whole block scans the batch's rows for activations beating the batch's
    // starting threshold, which only rises while tokens are offered; a token with none changes nothing and is
    // skipped, so the serial walk visits only the few tokens that can take a sink. (A warp per token left a decode
    // step's single row to one warp's serial walk over it.)
    for (int b0 = first; b0 < first + n; b0 += SINK_BATCH) {
        int batch = min(SINK_BATCH, first + n - b0);
        float thr0 = count < NSINK ? -1.0f : mag[0];
        for (int i = tid; i < batch; i += blockDim.x) offer[i] = false;
        __syncthreads();
        const float* rows = x + (size_t) b0 * HID;
        loaded_turns<8>(batch * HID, [&](int e) { return rows[e]; }, [&](int e, float v) {
            if (fabsf(v) > thr0) offer[e / HID] = true;
        });
        __syncthreads();
        for (int t = b0; t < b0 + batch; t++) {
            if (!offer[t - b0]) continue;
            const float* row = x + (size_t) t * HID;
            for (int i = tid; i < (HID + 31) / 32; i += blockDim.x) taken[i] = 0;
            __syncthreads();
            for (int r = 0; r < NSINK; r++) {
                float thr = count < NSINK ? -1.0f : mag[0];
                float best = -1.0f;
                int at = -1;
                for (int i = tid; i < HID; i += blockDim.x) {
                    float m = fabsf(row[i]);
                    if (m > thr && m > best && !((taken[i >> 5] >> (i & 31)) & 1)) {
                        best = m;
                        at = i;
                    }
                }
                for (int o = 16; o > 0; o >>= 1) {
                    float ob = __shfl_xor_sync(0xffffffff, best, o);
                    int oa = __shfl_xor_sync(0xffffffff, at, o);
                    if (oa >= 0 && (at < 0 || ob > best || (ob == best && oa < at))) {
                        best = ob;
                        at = oa;
                    }
                }
                if (lane == 0) {
                    wbest[warp] = best;
                    wat[warp] = at;
                }
                __syncthreads();
                if (tid == 0) {
                    best = -1.0f;
                    at = -1;
                    for (int w = 0; w < (int) (blockDim.x >> 5); w++) {
                        if (wat[w] >= 0 && (at < 0 || wbest[w] > best || (wbest[w] == best && wat[w] < at))) {
                            best = wbest[w];
                            at = wat[w];
                        }
                    }
                    found = at;
                    if (at >= 0) {
                        taken[at >> 5] |= 1u << (at & 31);
                        int i;
                        if (count < NSINK) {
                            for (i = count++; i > 0 && mag[i - 1] > best; i--) {
                                mag[i] = mag[i - 1];
                                mpos[i] = mpos[i - 1];
                            }
                        } else {
                            for (i = 0; i + 1 < NSINK && mag[i + 1] < best; i++) {
                                mag[i] = mag[i + 1];
                                mpos[i] = mpos[i + 1];
                            }
                        }
                        mag[i] = best;
                        mpos[i] = pos[t];
                    }
                }
                __syncthreads();
                if (found < 0) break;
            }
            if (tid == 0) {
                for (int s = 0; s < NSINK; s++) {
                    bool owns = false;
                    for (int i = 0; i < count; i++) owns |= mpos[i] == slot[s];
                    if (slot[s] >= 0 && !owns) {
                        *sink_slot(cache[first], lay, layer, slot[s]) = -1;
                        slot[s] = -1;
                    }
                }
                chosen = -1;
                bool owns = false;
                for (int i = 0; i < count; i++) owns |= mpos[i] == pos[t];
                for (int s = 0; owns && s < NSINK; s++) {
                    if (slot[s] < 0) {
                        slot[s] = pos[t];
                        *sink_slot(cache[first], lay, layer, pos[t]) = (signed char) s;
                        chosen = s;
                        break;
                    }
                }
            }
            __syncthreads();
            if (chosen >= 0) {
                for (int i = tid; i < KVD; i += blockDim.x) {
                    sk[(size_t) chosen * KVD + i] = __float2half(k[(size_t) t * QKVS + i]);
                    sv[(size_t) chosen * KVD + i] = __float2half(v[(size_t) t * QKVS + i]);
                }
            }
            __syncthreads();
        }
        __syncthreads();
    }
    for (int i = tid; i < NSINK; i += blockDim.x) {
        tmag[i] = mag[i];
        tpos[i] = mpos[i];
        tslot[i] = slot[i];
    }
    if (tid == 0) tslot[NSINK] = count;
}

// Forgets the sinks at or after new_length (a truncated sequence): one thread per layer.
extern "C" __global__ void rkv_truncate(unsigned long long cache, const long long* lay, int new_length) {
    unsigned char* base = layer_base(cache, lay, blockIdx.x);
    float* mag = (float*) (base + lay[L_TRACK]);
    int* mpos = (int*) (mag + NSINK);
    int* slot = mpos + NSINK;
    int kept = 0;
    for (int i = 0; i < slot[NSINK]; i++) {
        if (mpos[i] < new_length) {
            mag[kept] = mag[i];
            mpos[kept++] = mpos[i];
        }
    }
    slot[NSINK] = kept;
    for (int s = 0; s < NSINK; s++) {
        if (slot[s] >= new_length) {
            *sink_slot(cache, lay, blockIdx.x, slot[s]) = -1;
            slot[s] = -1;
        }
    }
}

__device__ __forceinline__ unsigned int load_word(const unsigned char* row, int lane) {
#if WB == 4
    return ((const unsigned int*) row)[lane];
#elif WB == 2
    return ((const unsigned short*) row)[lane];
#else
    return row[lane];
#endif
}

// Normalized Walsh-Hadamard over 32 P channels, lane L holding channels v * 32 + L (v < P): across lanes by
// shuffle, then within the lane, in the CPU's stage order. P = PER: one key rotation group; P = DPH: one head.
template <int P>
__device__ __forceinline__ void fwht_lanes(float* x, int lane) {
#pragma unroll
    for (int h = 1; h < 32; h <<= 1) {
        // The lane holding the pair's upper element keeps a - b, the other a + b: one FMA either way.
        float sign = (lane & h) ? -1.0f : 1.0f;
#pragma unroll
        for (int v = 0; v < P; v++) x[v] = fmaf(sign, x[v], __shfl_xor_sync(0xffffffff, x[v], h));
    }
#pragma unroll
    for (int h = 1; h < P; h <<= 1) {
#pragma unroll
        for (int v = 0; v < P; v++) {
            if (!(v & h)) {
                float a = x[v], b = x[v + h];
                x[v] = a + b;
                x[v + h] = a - b;
            }
        }
    }
    const float norm = (float) (1.0 / sqrt((double) (32 * P)));
#pragma unroll
    for (int v = 0; v < P; v++) x[v] *= norm;
}

// fp16x2 arithmetic on two channels held in one register.
__device__ __forceinline__ unsigned int h2_fma(unsigned int a, unsigned int b, unsigned int c) {
    unsigned int d;
    asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

__device__ __forceinline__ unsigned int h2_add(unsigned int a, unsigned int b) {
    unsigned int d;
    asm("add.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
}

__device__ __forceinline__ unsigned int h2_sub(unsigned int a, unsigned int b) {
    unsigned int d;
    asm("sub.rn.f16x2 %0, %1, %2;" : "=r"(d) : "r"(a), "r"(b));
    return d;
}

// fwht_lanes on packed keys at fp16, channels v and v + P/2 in one register: half the shuffles and butterflies,
// which bound the pre-RoPE decode (a Hadamard per position and rotation group). The stage that pairs v with v + P/2
// runs last, in fp32, as the pairs are unpacked (the stages commute). fp16's rounding (2^-11, relative) is far below
// the 2-bit codes'. Unnormalized: the caller applies the norm.
template <int P>
__device__ __forceinline__ void fwht_pairs(unsigned int* y, float* x, int lane) {
#pragma unroll
    for (int h = 1; h < 32; h <<= 1) {
        unsigned int sign = (lane & h) ? 0xbc00bc00u : 0x3c003c00u;
#pragma unroll
        for (int v = 0; v < P / 2; v++) y[v] = h2_fma(sign, y[v], __shfl_xor_sync(0xffffffff, y[v], h));
    }
#pragma unroll
    for (int h = 1; h < P / 2; h <<= 1) {
#pragma unroll
        for (int v = 0; v < P / 2; v++) {
            if (!(v & h)) {
                unsigned int a = y[v], b = y[v + h];
                y[v] = h2_add(a, b);
                y[v + h] = h2_sub(a, b);
            }
        }
    }
#pragma unroll
    for (int v = 0; v < P / 2; v++) {
        __half lo, hi;
        asm("mov.b32 {%0, %1}, %2;" : "=h"(lo), "=h"(hi) : "r"(y[v]));
        float a = __half2float(lo), b = __half2float(hi);
        x[v] = a + b;
        x[v + P / 2] = a - b;
    }
}


// A packed word with the codes of channels v and v + PER/2 16 bits apart (stored, they are PER bits apart).
__device__ __forceinline__ unsigned int spread_codes(unsigned int word) {
#if PER == 16
    return word;
#elif PER == 8
    return __byte_perm(word, 0, 0x4140);
#else
    return (word & 0xfu) | (word & 0xf0u) << 12;
#endif
}

// The codes of channels v and v + PER/2 of a spread word as the halves of one fp16x2 word, exact: the exponent
// bits make each half 1024 + code, less 1024. Two codes in three instructions, no integer conversions.
__device__ __forceinline__ unsigned int code_pair(unsigned int spread, int v) {
    return h2_sub((spread >> (2 * v)) & 0x00030003u | 0x64006400u, 0x64006400u);
}

// A packed row's PER channels in fp32: each channel's group minimum plus its code times the group's scale.
__device__ __forceinline__ void unpack_row(unsigned int word, const unsigned int* scale_min, float* x) {
#if WIDE
    unsigned int s = spread_codes(word);
#pragma unroll
    for (int v = 0; v < PER / 2; v++) {
        unsigned int c = code_pair(s, v);
        x[v] = fmaf(__half2float((__half) (c & 0xffff)), __half2float((__half) (scale_min[v] & 0xffff)), __half2float((__half) (scale_min[v] >> 16)));
        x[v + PER / 2] = fmaf(__half2float((__half) (c >> 16)), __half2float((__half) (scale_min[v + PER / 2] & 0xffff)),
                __half2float((__half) (scale_min[v + PER / 2] >> 16)));
    }
#else
#pragma unroll
    for (int v = 0; v < PER; v++)
        x[v] = __half2float((__half) (scale_min[v] >> 16)) + (float) ((word >> (2 * v)) & 3) * __half2float((__half) (scale_min[v] & 0xffff));
#endif
}

// A packed row's keys as fwht_pairs takes them, in fp16 (the Hadamard that follows runs in fp16): each pair's code,
// scale and minimum are exact there, one rounding for their multiply-add.
__device__ __forceinline__ void key_pairs(unsigned int word, const unsigned int* scale_min, unsigned int* y) {
    unsigned int s = spread_codes(word);
#pragma unroll
    for (int v = 0; v < PER / 2; v++)
        y[v] = h2_fma(code_pair(s, v), __byte_perm(scale_min[v], scale_min[v + PER / 2], 0x5410),
                __byte_perm(scale_min[v], scale_min[v + PER / 2], 0x7632));
}

// RoPE at position j on one rotation group's keys in the lanes' layout (rotate_half pairs are DPH / 2 words apart).
__device__ __forceinline__ void rope_lanes(float* k, const float2* rope_cs, int j, int lane) {
    const float2* cs = rope_cs + (size_t) j * (HD / 2);
#pragma unroll
    for (int v = 0; v < PER; v++) {
        if (v % DPH < DPH / 2) {
            float2 r = cs[(v % DPH) * 32 + lane];
            float x1 = k[v], x2 = k[v + DPH / 2];
            k[v] = x1 * r.x - x2 * r.y;
            k[v + DPH / 2] = x2 * r.x + x1 * r.y;
        }
    }
}

// The key group of each of the lane's PER channels of rotation group rg, 4 bits each.
__device__ __forceinline__ unsigned long long key_groups(const unsigned char* kgroup, int layer, int rg, int lane) {
    unsigned long long kg = 0;
#pragma unroll
    for (int v = 0; v < PER; v++) kg |= (unsigned long long) kgroup[(size_t) layer * KVD + rg * RS + v * 32 + lane] << (4 * v);
    return kg;
}

// Sums each of the GH per-lane partial scores over the warp, leaving lane L the total of head
// L >> SHIFT: halving exchanges (GH - 1 shuffles) instead of GH full reductions (5 GH).
#define SHIFT (GH == 1 ? 5 : GH == 2 ? 4 : GH == 4 ? 3 : GH == 8 ? 2 : GH == 16 ? 1 : 0)
__device__ __forceinline__ float reduce_scatter(float* s) {
    int lane = threadIdx.x & 31;
    int n = GH;
#pragma unroll
    for (int mask = 16; mask >= 1; mask >>= 1) {
        if (n > 1) {
            n >>= 1;
            bool upper = lane & mask;
#pragma unroll
            for (int i = 0; i < GH / 2; i++) {
                if (i < n) {
                    float send = upper ? s[i] : s[i + n];
                    float keep = upper ? s[i + n] : s[i];
                    s[i] = keep + __shfl_xor_sync(0xffffffff, send, mask);
                }
            }
        } else {
            s[0] += __shfl_xor_sync(0xffffffff, s[0], mask);
        }
    }
    return s[0];
}

// The scores of N positions' keys (positions first, first + WARPS, ...) against the block's queries, each query read
// from shared memory once for all N; positions past last score -inf.
template <int N>
__device__ __forceinline__ void score_keys(const float (*qs)[32][DPH], const float (*kf)[PER], int first, int last, float* score) {
    int lane = threadIdx.x & 31;
    float s[N][GH];
#pragma unroll
    for (int h = 0; h < GH; h++) {
        float qa[DPH];
#pragma unroll
        for (int d = 0; d < DPH; d++) qa[d] = qs[h][lane][d];
#pragma unroll
        for (int u = 0; u < N; u++) {
            s[u][h] = 0;
#pragma unroll
            for (int d = 0; d < DPH; d++) s[u][h] += qa[d] * kf[u][h / QPK * DPH + d];
        }
    }
#pragma unroll
    for (int u = 0; u < N; u++) score[u] = first + u * WARPS <= last ? reduce_scatter(s[u]) : NEG_INF;
}

// Decode attention of one token's query heads over KV rotation group blockIdx.y (RS/HD KV heads, GH query
// heads), positions of chunk blockIdx.z: each warp PU positions at a time, every K and V row read once for the group.
// Packed rows are dequantized, un-rotated (Hadamard across lanes, then within) and RoPE'd in registers,
// or with QROT scored against rotated queries as they are; window and sink rows are fp16. Values stay rotated: rkv_combine rotates the output back once per head.
// Each (token, head, chunk) leaves max, sum and unnormalized output in partial.
extern "C" __global__ void __launch_bounds__(WARPS * 32, ATTEND_BLOCKS) rkv_attend(const float* q, const int* pos, const int* win_start,
        const unsigned long long* cache, const long long* lay, int layer, const unsigned char* kgroup,
        const float2* rope_cs, int chunk, float* partial) {
    int t = blockIdx.x, rg = blockIdx.y, z = blockIdx.z;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const unsigned char* base = layer_base(cache[t], lay, layer);
    const __half* wk = (const __half*) (base + lay[L_WK]) + rg * RS + lane;
    const __half* wv = (const __half*) (base + lay[L_WV]) + rg * RS + lane;
    const __half* sk = (const __half*) (base + lay[L_SK]) + rg * RS + lane;
    const __half* sv = (const __half*) (base + lay[L_SV]) + rg * RS + lane;
    float scale = rsqrtf((float) HD) * KEY_NORM;
    // The block's warps share one token's queries: in shared memory, not in each thread's registers, they leave
    // room for more warps an SM. A lane's DPH channels of a head are contiguous, one vector load.
    __shared__ __align__(16) float qs[GH][32][DPH];
    float acc[GH][DPH];
    for (int h = warp; h < GH; h += WARPS) {
        float qr[DPH];
#pragma unroll
        for (int u = 0; u < DPH; u++) qr[u] = q[(size_t) t * QKVS + (rg * GH + h) * HD + u * 32 + lane] * scale;
#if QROT
        fwht_lanes<DPH>(qr, lane);
#endif
#pragma unroll
        for (int u = 0; u < DPH; u++) qs[h][lane][u] = qr[u];
    }
#pragma unroll
    for (int h = 0; h < GH; h++)
#pragma unroll
        for (int u = 0; u < DPH; u++) acc[h][u] = 0;
    __syncthreads();
    unsigned long long kg = key_groups(kgroup, layer, rg, lane);
    __shared__ __align__(16) float sp[WARPS][PU][GH];
    float m = NEG_INF, l = 0;
    int ws = win_start[t];
    int last = min(pos[t], z * chunk + chunk - 1);
    for (int j0 = z * chunk + warp; j0 <= last; j0 += WARPS * PU) {
        // Every position's packed row is written (window and sink positions too), so its loads need not wait
        // for the flag: all PU positions' codes and scales are in flight together.
        int sl[PU];
        unsigned int kword[PU], vword[PU], ke[PU][PER], ve[PU][PER];
#pragma unroll
        for (int u = 0; u < PU; u++) {
            int j = min(j0 + u * WARPS, last), at = PAGE_SLOT(j);
            const unsigned char* page = page_base(cache[t], lay, layer, j);
            sl[u] = j >= ws ? -2 : ((const signed char*) (page + lay[L_FLAG]))[at];
            kword[u] = load_word(page + lay[L_KC] + at * (KVD / 4) + rg * 32 * WB, lane);
            vword[u] = load_word(page + lay[L_VC] + at * (KVD / 4) + rg * 32 * WB, lane);
            const unsigned int* ks = (const unsigned int*) (page + lay[L_KSM]) + at * NGK;
            const unsigned int* vs = (const unsigned int*) (page + lay[L_VSM]) + at * NGV;
#pragma unroll
            for (int v = 0; v < PER; v++) {
                ke[u][v] = ks[(kg >> (4 * v)) & 15];
                ve[u][v] = vs[VSLOT(rg, v, lane)];
            }
        }
        float kf[PU][PER], vf[PU][PER], score[PU];
#pragma unroll
        for (int u = 0; u < PU; u++) {
            int j = min(j0 + u * WARPS, last);
#if KROT && !QROT
            unsigned int ky[PER / 2];
            key_pairs(kword[u], ke[u], ky);
#else
            unpack_row(kword[u], ke[u], kf[u]);
#endif
            unpack_row(vword[u], ve[u], vf[u]);
            // Every lane reads the same flag; the vote tells the compiler so, and the shuffles of the Hadamard
            // in either branch then run without per-shuffle convergence barriers.
            if (__any_sync(0xffffffff, sl[u] != -1)) {
                const __half* kr = sl[u] == -2 ? wk + (size_t) (j - ws) * KVD : sk + (size_t) sl[u] * KVD;
                const __half* vr = sl[u] == -2 ? wv + (size_t) (j - ws) * KVD : sv + (size_t) sl[u] * KVD;
#pragma unroll
                for (int v = 0; v < PER; v++) {
                    kf[u][v] = __half2float(kr[v * 32]) * (1.0f / KEY_NORM);
                    vf[u][v] = __half2float(vr[v * 32]);
                }
#if QROT
                fwht_lanes<PER>(kf[u], lane);
#endif
            } else {
#if KROT && !QROT
                fwht_pairs<PER>(ky, kf[u], lane);
#endif
            }
#if PREROPE
            rope_lanes(kf[u], rope_cs, j, lane);
#endif
#if !WIDE
            score_keys<1>(qs, kf + u, j0 + u * WARPS, last, score + u);
#endif
        }
#if WIDE
        score_keys<PU>(qs, kf, j0, last, score);
#endif
        float top = score[0];
#pragma unroll
        for (int u = 1; u < PU; u++) top = fmaxf(top, score[u]);
        // The running maxima rarely grow after a chunk's first positions: rescale only when one does.
        if (__any_sync(0xffffffff, top > m)) {
            float mn = fmaxf(m, top), corr = expf(m - mn);
            l *= corr;
            m = mn;
#pragma unroll
            for (int h = 0; h < GH; h++) {
                float ch = __shfl_sync(0xffffffff, corr, h << SHIFT);
#pragma unroll
                for (int d = 0; d < DPH; d++) acc[h][d] *= ch;
            }
        }
        // Each head's weight goes to every lane through shared memory: one store and GH / 4 broadcast vector loads
        // instead of GH shuffles.
#pragma unroll
        for (int u = 0; u < PU; u++) {
            float p = expf(score[u] - m);
            l += p;
            if ((lane & ((1 << SHIFT) - 1)) == 0) sp[warp][u][lane >> SHIFT] = p;
        }
        __syncwarp();
#pragma unroll
        for (int u = 0; u < PU; u++) {
#pragma unroll
            for (int h = 0; h < GH; h++) {
                float ph = sp[warp][u][h];
#pragma unroll
                for (int d = 0; d < DPH; d++) acc[h][d] = fmaf(ph, vf[u][h / QPK * DPH + d], acc[h][d]);
            }
        }
        __syncwarp();
    }
    __shared__ float sm[WARPS][GH], ssum[WARPS][GH], sacc[WARPS][GH][HD];
#pragma unroll
    for (int h = 0; h < GH; h++) {
#pragma unroll
        for (int u = 0; u < DPH; u++) sacc[warp][h][u * 32 + lane] = acc[h][u];
    }
    if ((lane & ((1 << SHIFT) - 1)) == 0) {
        sm[warp][lane >> SHIFT] = m;
        ssum[warp][lane >> SHIFT] = l;
    }
    __syncthreads();
    for (int h = warp; h < GH; h += WARPS) {
        float mx = NEG_INF;
        for (int w = 0; w < WARPS; w++) if (ssum[w][h] > 0) mx = fmaxf(mx, sm[w][h]);
        float tot = 0, o[DPH];
#pragma unroll
        for (int u = 0; u < DPH; u++) o[u] = 0;
        for (int w = 0; w < WARPS; w++) {
            if (ssum[w][h] == 0) continue;
            float f = expf(sm[w][h] - mx);
            tot += ssum[w][h] * f;
#pragma unroll
            for (int u = 0; u < DPH; u++) o[u] += sacc[w][h][u * 32 + lane] * f;
        }
        float* out = partial + (((size_t) t * HEADS + rg * GH + h) * gridDim.z + z) * (HD + 2);
        if (lane == 0) {
            out[0] = mx;
            out[1] = tot;
        }
#pragma unroll
        for (int u = 0; u < DPH; u++) out[2 + u * 32 + lane] = o[u];
    }
}

// A 2-bit cache's rows as prefill attention reads them: fp16 keys with RoPE applied and values, both un-rotated,
// [K|V][kv_head][span][HD] from rows[t], for positions [0, pos[t]] of the sequence whose last token of the step is
// t = seq_last[blockIdx.z]. Each row is what rkv_attend scores and weighs at that position (window, sink or packed),
// decoded once for every query token of the step instead of once per query token. A warp per (position, rotation group).
extern "C" __global__ void __launch_bounds__(WARPS * 32) rkv_unpack(const int* seq_last, const int* pos, const int* win_start,
        const unsigned long long* cache, const long long* lay, int layer, const unsigned char* kgroup,
        const float2* rope_cs, const unsigned long long* rows, int span) {
    int t = seq_last[blockIdx.z], rg = blockIdx.y, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    int j = blockIdx.x * WARPS + warp;
    if (j > pos[t]) return;
    const unsigned char* base = layer_base(cache[t], lay, layer);
    const unsigned char* page = page_base(cache[t], lay, layer, j);
    int at = PAGE_SLOT(j);
    int sl = j >= win_start[t] ? -2 : ((const signed char*) (page + lay[L_FLAG]))[at];
    float kf[PER], vf[PER];
    if (sl == -1) {
        unsigned int kword = load_word(page + lay[L_KC] + at * (KVD / 4) + rg * 32 * WB, lane);
        unsigned int vword = load_word(page + lay[L_VC] + at * (KVD / 4) + rg * 32 * WB, lane);
        const unsigned int* ks = (const unsigned int*) (page + lay[L_KSM]) + at * NGK;
        const unsigned int* vs = (const unsigned int*) (page + lay[L_VSM]) + at * NGV;
        unsigned long long kg = key_groups(kgroup, layer, rg, lane);
        unsigned int ke[PER], ve[PER];
#pragma unroll
        for (int v = 0; v < PER; v++) {
            ke[v] = ks[(kg >> (4 * v)) & 15];
            ve[v] = vs[VSLOT(rg, v, lane)];
        }
        // Packed keys are stored rotated; the normalized Hadamard is its own inverse. The same arithmetic as rkv_attend's,
        // so that a token scores alike in a prefill step and decoded alone: fp16 pairs where it un-rotates keys (the
        // norm applied to the keys here, to the queries there), fp32 where it scores rotated queries (QROT) at fp32.
#if KROT && !QROT
        unsigned int ky[PER / 2];
        key_pairs(kword, ke, ky);
        fwht_pairs<PER>(ky, kf, lane);
#pragma unroll
        for (int v = 0; v < PER; v++) kf[v] *= KEY_NORM;
#else
        unpack_row(kword, ke, kf);
#if QROT
        fwht_lanes<PER>(kf, lane);
#endif
#endif
        unpack_row(vword, ve, vf);
    } else {
        const __half* kr = (const __half*) (base + (sl == -2 ? lay[L_WK] : lay[L_SK])) + (size_t) (sl == -2 ? j - win_start[t] : sl) * KVD;
        const __half* vr = (const __half*) (base + (sl == -2 ? lay[L_WV] : lay[L_SV])) + (size_t) (sl == -2 ? j - win_start[t] : sl) * KVD;
#pragma unroll
        for (int v = 0; v < PER; v++) {
            kf[v] = __half2float(kr[rg * RS + v * 32 + lane]);
            vf[v] = __half2float(vr[rg * RS + v * 32 + lane]);
        }
    }
#if PREROPE
    rope_lanes(kf, rope_cs, j, lane);
#endif
    __half* kout = (__half*) rows[t] + (size_t) rg * (RS / HD) * span * HD + (size_t) j * HD + lane;
    __half* vout = kout + (size_t) (KVD / HD) * span * HD;
#pragma unroll
    for (int h = 0; h < RS / HD; h++) {
#if VROT
        fwht_lanes<DPH>(vf + h * DPH, lane);
#endif
#pragma unroll
        for (int u = 0; u < DPH; u++) {
            kout[(size_t) h * span * HD + u * 32] = __float2half(kf[h * DPH + u]);
            vout[(size_t) h * span * HD + u * 32] = __float2half(vf[h * DPH + u]);
        }
    }
}

// Merges rkv_attend's chunks of one (token, head), one thread per output dimension, then rotates the
// value-space output back (the values' Hadamard is its own inverse) and writes it as fp16.
extern "C" __global__ void rkv_combine(const float* partial, int splits, __half* out) {
    __shared__ float o[HD];
    int t = blockIdx.x, head = blockIdx.y, i = threadIdx.x;
    o[i] = combine_chunks(partial + ((size_t) t * HEADS + head) * splits * (HD + 2), splits, HD, i);
    __syncthreads();
#if VROT
    fwht_shared(o, HD, HD);
#endif
    out[((size_t) t * HEADS + head) * HD + i] = __float2half(o[i]);
}

// Spills move codes between the lanes' layout and the CPU's (channel slot s at bits 2 (s % 4) of byte s / 4, keys'
// slots in the calibrated order): one thread per byte of either, positions [0, rows), for keys (slot_of: the
// inverse order, and order) and values (identity) alike.

// Lane-layout byte and shift of channel c's code.
__device__ __forceinline__ int lane_byte(int c, int* shift) {
    int in = c % RS, v = in / 32;
    *shift = 2 * (v % 4);
    return (c / RS * 32 + in % 32) * WB + v / 4;
}

// CPU-layout bytes from the cache: keys then values, rows x KVD / 4 bytes each.
extern "C" __global__ void rkv_spill_codes(unsigned long long cache, const long long* lay, int layer, const int* order,
                                           int rows, unsigned char* out) {
    long long n = (long long) rows * (KVD / 4);
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < 2 * n; i += (long long) gridDim.x * blockDim.x) {
        bool keys = i < n;
        long long at = keys ? i : i - n;
        int p = (int) (at / (KVD / 4)), b = (int) (at % (KVD / 4));
        const unsigned char* row = page_base(cache, lay, layer, p) + lay[keys ? L_KC : L_VC] + PAGE_SLOT(p) * (KVD / 4);
        unsigned int byte = 0;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            int slot = 4 * b + k, shift;
            int c = keys && order ? order[(size_t) layer * KVD + slot] : slot;
            int from = lane_byte(c, &shift);
            byte |= ((row[from] >> shift) & 3u) << (2 * k);
        }
        out[i] = (unsigned char) byte;
    }
}

// The inverse: the cache's lane-layout bytes from CPU-layout ones.
extern "C" __global__ void rkv_restore_codes(unsigned long long cache, const long long* lay, int layer, const int* slot_of,
                                             int rows, const unsigned char* in) {
    long long n = (long long) rows * (KVD / 4);
    for (long long i = blockIdx.x * (long long) blockDim.x + threadIdx.x; i < 2 * n; i += (long long) gridDim.x * blockDim.x) {
        bool keys = i < n;
        long long at = keys ? i : i - n;
        int p = (int) (at / (KVD / 4)), b = (int) (at % (KVD / 4));
        const unsigned char* row = in + (keys ? 0 : n) + (size_t) p * (KVD / 4);
        int w = b / WB, g = w / 32, lane = w % 32;
        unsigned int byte = 0;
#pragma unroll
        for (int k = 0; k < 4; k++) {
            int c = g * RS + (4 * (b % WB) + k) * 32 + lane;
            int slot = keys && slot_of ? slot_of[(size_t) layer * KVD + c] : c;
            byte |= ((row[slot / 4] >> (2 * (slot % 4))) & 3u) << (2 * k);
        }
        page_base(cache, lay, layer, p)[lay[keys ? L_KC : L_VC] + PAGE_SLOT(p) * (KVD / 4) + b] = (unsigned char) byte;
    }
}
