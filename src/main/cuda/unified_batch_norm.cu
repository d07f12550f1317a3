// Unified Batch Normalization kernels (spec-brn-ubn-baselines.md §3, the co-author's layer):
// the condensation gate's statistic, RBN's centering and scaling calibrations, and BNET's
// depthwise k×k convolution as the affine, forward and backward. The batch normalization in
// the middle runs on the shared norm kernels (norm.cu). The Java side is
// io.jnorm.backend.cuda.CudaUnifiedBatchNorm (its typed launchers mirror these entries); the CPU
// reference with the same names is CpuUnifiedBatchNorm.
//
//   ubn_cosine              the gate's mean pairwise cosine of the first n samples (16 by
//                           default), on the device: their Gram matrix in 16 × 16 blocks, feature
//                           tiles staged in shared memory (one pass over x for n ≤ 16); blocks split
//                           the features and the block pairs, and the last block (ticket) merges
//                           the partial Gram matrices in block order and writes c in double.
//   ubn_center              one block per instance (n, c): the plane's mean a and xc = x + w_c·a.
//   ubn_calibrate           one block per instance: b = mean(x̂), s = sigmoid(w_s·b + b_s), the
//                           depthwise conv z = K ⋆ x̂ + bias from the plane cached in shared
//                           memory, y = s·z.
//   ubn_calibrate_backward  one block per channel, walking the N planes in order, so dK, dbias,
//                           dw_s and db_s need no grid-level merge (fixed order, no atomics):
//                           ds, dpre, dK (a warp per tap), dx̂ (transposed conv of dz).
//   ubn_center_backward     one block per channel: dw_c = Σ_n a·Σ_hw dxc, dx = dxc + w_c·Σdxc/P.
//
// Planes are cached in dynamic shared memory when they fit (the host decides: `cached`), so each
// element is read from global memory once and the k² taps of the convolution hit shared memory;
// larger planes read their taps through the read-only path instead.
// Precision: the element work and the P-long reductions run in T; per-instance scalars
// (sigmoid, dpre) and per-channel sums over n run in double; the cosine runs in double.
#include "common/norm_stats.cuh"

using jnorm::block_reduce_sum;
using jnorm::block_reduce_sum2;

extern __shared__ __align__(16) unsigned char ubn_dynamic_smem[];

namespace {

// The Gram matrix is computed in 16 × 16 sample blocks: one thread per entry of a block pair.
constexpr int kCosBlock = 16;
constexpr int kCosEntries = kCosBlock * kCosBlock;
constexpr int kCosTile = 64;
// torch.nn.functional.cosine_similarity's eps, applied to each norm separately.
constexpr double kCosEps = 1e-8;

// (i, j), i <= j, of pair p in row-major order of the upper triangle of an n×n matrix.
__device__ __forceinline__ void pair_of(int p, int n, int& i, int& j) {
    i = 0;
    int row = n;
    while (p >= row) {
        p -= row;
        ++i;
        --row;
    }
    j = i + p;
}

// Stages rows [first, first + 16) of the samples, features [f0, f0 + kCosTile), as doubles.
template <typename T>
__device__ __forceinline__ void cos_stage(const T* __restrict__ x, int n, int F, int first, long long f0,
                                          double (*tile)[kCosTile + 1]) {
    for (int q = threadIdx.x; q < kCosBlock * kCosTile; q += blockDim.x) {
        const int r = q / kCosTile;
        const int k = q - r * kCosTile;
        const int i = first + r;
        const long long f = f0 + k;
        tile[r][k] = i < n && f < F ? static_cast<double>(x[static_cast<long long>(i) * F + f]) : 0.0;
    }
}

// ---------------------------------------------------------------------------------------------
// ubn_cosine: c = (Σ_ij S_ij − n)/(n(n − 1)) with S_ij = G_ij/(max(|F_i|, eps)·max(|F_j|, eps)),
// G the Gram matrix of the first n samples (flattened over C·H·W = F); c = 1 for n = 1.
// Parallelizes over (feature tiles = grid.x, pairs of 16-sample blocks = grid.y): a block stages
// the two blocks' rows of a 64-feature tile (coalesced rows, padded against bank conflicts) and
// each of its 256 threads accumulates one Gram entry in double. For the default 16 samples that
// is one block pair, so x is read once. The last block to finish (ticket) sums the partial Gram
// matrices in block order, then the normalized entries in a fixed tree, and writes c.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void cosine(const T* __restrict__ x, int n, int F, double* __restrict__ partial,
                       unsigned* __restrict__ ticket, double* __restrict__ out) {
    __shared__ double tile_a[kCosBlock][kCosTile + 1];
    __shared__ double tile_b[kCosBlock][kCosTile + 1];
    __shared__ double scratch[32];
    __shared__ int last_flag;
    const int blocks = (n + kCosBlock - 1) / kCosBlock;
    int bi;
    int bj;
    pair_of(blockIdx.y, blocks, bi, bj);
    const int ti = threadIdx.x / kCosBlock;
    const int tj = threadIdx.x % kCosBlock;
    double (*tb)[kCosTile + 1] = bi == bj ? tile_a : tile_b;
    double acc = 0.0;
    for (long long f0 = static_cast<long long>(blockIdx.x) * kCosTile; f0 < F;
         f0 += static_cast<long long>(gridDim.x) * kCosTile) {
        cos_stage(x, n, F, bi * kCosBlock, f0, tile_a);
        if (bi != bj) {
            cos_stage(x, n, F, bj * kCosBlock, f0, tile_b);
        }
        __syncthreads();
#pragma unroll 8
        for (int k = 0; k < kCosTile; ++k) {
            acc += tile_a[ti][k] * tb[tj][k];
        }
        __syncthreads();
    }
    partial[(static_cast<long long>(blockIdx.y) * gridDim.x + blockIdx.x) * kCosEntries + threadIdx.x] = acc;
    // Every thread wrote a partial: fence them all before thread 0 takes the ticket.
    __threadfence();
    __syncthreads();
    if (!jnorm::norm_last_block(ticket, gridDim.x * gridDim.y, &last_flag)) {
        return;
    }
    // Phase 1: each entry's sum over the feature blocks, in block order, stored in place of the
    // first feature block's partial (only this block reads the partials now).
    const int entries = gridDim.y * kCosEntries;
    for (int e = threadIdx.x; e < entries; e += blockDim.x) {
        const int q = e / kCosEntries;
        const int t = e - q * kCosEntries;
        double g = 0.0;
        for (int bx = 0; bx < static_cast<int>(gridDim.x); ++bx) {
            g += __ldcg(partial + (static_cast<long long>(q) * gridDim.x + bx) * kCosEntries + t);
        }
        partial[static_cast<long long>(q) * gridDim.x * kCosEntries + t] = g;
    }
    // A block barrier makes this block's global writes visible to its own threads.
    __syncthreads();
    // Phase 2: Σ over the upper triangle of S (off-diagonal entries twice).
    double total = 0.0;
    for (int e = threadIdx.x; e < entries; e += blockDim.x) {
        const int q = e / kCosEntries;
        const int t = e - q * kCosEntries;
        int qi;
        int qj;
        pair_of(q, blocks, qi, qj);
        const int i = qi * kCosBlock + t / kCosBlock;
        const int j = qj * kCosBlock + t % kCosBlock;
        if (i >= n || j >= n || (qi == qj && i > j)) {
            continue;
        }
        // G_ii is entry (i % 16, i % 16) of the diagonal block pair of block i / 16.
        const int di = i / kCosBlock;
        const int dj = j / kCosBlock;
        const int qdi = di * blocks - di * (di - 1) / 2;
        const int qdj = dj * blocks - dj * (dj - 1) / 2;
        const double gii = partial[static_cast<long long>(qdi) * gridDim.x * kCosEntries
                                   + (i % kCosBlock) * (kCosBlock + 1)];
        const double gjj = partial[static_cast<long long>(qdj) * gridDim.x * kCosEntries
                                   + (j % kCosBlock) * (kCosBlock + 1)];
        const double g = partial[static_cast<long long>(q) * gridDim.x * kCosEntries + t];
        const double sij = g / (fmax(sqrt(gii), kCosEps) * fmax(sqrt(gjj), kCosEps));
        total += i == j ? sij : 2.0 * sij;
    }
    total = block_reduce_sum(total, scratch);
    if (threadIdx.x == 0) {
        *ticket = 0u;
        *out = n == 1 ? 1.0 : (total - n) / (static_cast<double>(n) * (n - 1));
    }
}

// Reads element e of a plane: from the shared cache, or from global memory.
template <typename T, bool kCached>
__device__ __forceinline__ T plane_at(const T* cache, const T* global, int e) {
    if constexpr (kCached) {
        return cache[e];
    } else {
        return __ldg(global + e);
    }
}

// ---------------------------------------------------------------------------------------------
// ubn_center: a = mean_hw(x), xc = x + w_c·a. Parallelizes over instances (grid.x, blocks loop);
// pass 1 sums the plane in W-wide (16-byte) vectors, caching it when `kCached`; pass 2 writes xc.
// ---------------------------------------------------------------------------------------------
template <typename T, int W, bool kCached>
__device__ void center(const T* __restrict__ x, const T* __restrict__ wc, int N, int C, int P,
                       T* __restrict__ a, T* __restrict__ xc) {
    __shared__ T scratch[32];
    __shared__ T weight;
    T* cache = reinterpret_cast<T*>(ubn_dynamic_smem);
    const int nv = P / W;
    for (int i = blockIdx.x; i < N * C; i += gridDim.x) {
        const T* row = x + static_cast<long long>(i) * P;
        if (threadIdx.x == 0) {
            weight = wc[i % C];
        }
        T sum = T(0);
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            T q[W];
            jnorm::load_vec<W>(row + v * W, q);
            if constexpr (kCached) {
                jnorm::store_vec<W>(cache + v * W, q);
            }
#pragma unroll
            for (int k = 0; k < W; ++k) {
                sum += q[k];
            }
        }
        // Its barriers also publish `weight` (each thread re-reads only cache slots it wrote).
        const T mean = block_reduce_sum(sum, scratch) / T(P);
        if (threadIdx.x == 0) {
            a[i] = mean;
        }
        const T shift = weight * mean;
        T* out = xc + static_cast<long long>(i) * P;
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            T q[W];
            if constexpr (kCached) {
                jnorm::load_vec_shared<W>(cache + v * W, q);
            } else {
                jnorm::load_vec<W>(row + v * W, q);
            }
#pragma unroll
            for (int k = 0; k < W; ++k) {
                q[k] += shift;
            }
            jnorm::store_vec<W>(out + v * W, q);
        }
        __syncthreads();
    }
}

__device__ __forceinline__ double sigmoid(double v) {
    return v >= 0.0 ? 1.0 / (1.0 + exp(-v)) : exp(v) / (1.0 + exp(v));
}

// ---------------------------------------------------------------------------------------------
// ubn_calibrate: b = mean_hw(x̂), s = sigmoid(w_s·b + b_s), z = K_c ⋆ x̂ + bias_c (zero padding
// (k−1)/2; z = x̂ without conv), y = s·z. Parallelizes over instances; the plane and the channel's
// k² taps are staged in shared memory, so the k² taps per output cost no global traffic.
// ---------------------------------------------------------------------------------------------
template <typename T, int V, bool kCached>
__device__ void calibrate(const T* __restrict__ xhat, const T* __restrict__ ws, const T* __restrict__ bs,
                          const T* __restrict__ kernel, const T* __restrict__ kbias, int k, int N, int C, int H,
                          int W, T* __restrict__ scale, T* __restrict__ z, T* __restrict__ y) {
    __shared__ T scratch[32];
    __shared__ T coef[2];
    const int P = H * W;
    // The plane cache follows the taps, rounded up to 16 bytes so vector stores stay aligned.
    T* taps = reinterpret_cast<T*>(ubn_dynamic_smem);
    constexpr int kAlign = 16 / static_cast<int>(sizeof(T));
    T* cache = taps + (k * k + kAlign - 1) / kAlign * kAlign;
    const int pad = (k - 1) / 2;
    for (int i = blockIdx.x; i < N * C; i += gridDim.x) {
        const int c = i % C;
        const T* row = xhat + static_cast<long long>(i) * P;
        if (kernel != nullptr) {
            for (int t = threadIdx.x; t < k * k; t += blockDim.x) {
                taps[t] = kernel[c * k * k + t];
            }
        }
        T sum = T(0);
        for (int v = threadIdx.x; v < P / V; v += blockDim.x) {
            T q[V];
            jnorm::load_vec<V>(row + v * V, q);
            if constexpr (kCached) {
                jnorm::store_vec<V>(cache + v * V, q);
            }
#pragma unroll
            for (int j = 0; j < V; ++j) {
                sum += q[j];
            }
        }
        const T b = block_reduce_sum(sum, scratch) / T(P);
        if (threadIdx.x == 0) {
            const T s = static_cast<T>(sigmoid(static_cast<double>(ws[c]) * b + static_cast<double>(bs[c])));
            scale[i] = s;
            coef[0] = s;
            coef[1] = kernel != nullptr ? kbias[c] : T(0);
        }
        __syncthreads();
        const T s = coef[0];
        const T bias = coef[1];
        const long long base = static_cast<long long>(i) * P;
        for (int e = threadIdx.x; e < P; e += blockDim.x) {
            T v;
            if (kernel != nullptr) {
                const int h = e / W;
                const int w = e - h * W;
                T acc = bias;
                for (int ki = 0; ki < k; ++ki) {
                    const int hh = h + ki - pad;
                    if (hh < 0 || hh >= H) {
                        continue;
                    }
                    for (int kj = 0; kj < k; ++kj) {
                        const int ww = w + kj - pad;
                        if (ww >= 0 && ww < W) {
                            acc += taps[ki * k + kj] * plane_at<T, kCached>(cache, row, hh * W + ww);
                        }
                    }
                }
                v = acc;
                if (z != nullptr) {
                    z[base + e] = v;
                }
            } else {
                v = plane_at<T, kCached>(cache, row, e);
            }
            y[base + e] = s * v;
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// ubn_calibrate_backward (spec §3.4): per channel c, over its N planes in order:
//   dz = dy·s; ds = Σ_hw dy·z; dpre = ds·s(1 − s); dw_s += dpre·mean(x̂); db_s += dpre;
//   dbias += Σ dz; dK[t] += Σ_hw dz·x̂(shifted by tap t); dx̂ = Kᵀ ⋆ dz + dpre·w_s/P.
// Parallelizes over channels (grid.x, blocks loop); x̂ and dz planes are cached in shared memory
// when they fit; each tap's sum is owned by one warp (tap = warp, warp + warps, ...), so the
// accumulation order is fixed without block barriers per tap.
// ---------------------------------------------------------------------------------------------
template <typename T, int V, bool kCached>
__device__ void calibrate_backward(const T* __restrict__ dy, const T* __restrict__ xhat, const T* __restrict__ z,
                                   const T* __restrict__ scale, const T* __restrict__ ws,
                                   const T* __restrict__ kernel, int k, int N, int C, int H, int W,
                                   T* __restrict__ dxhat, T* __restrict__ dws, T* __restrict__ dbs,
                                   T* __restrict__ dkernel, T* __restrict__ dkbias) {
    __shared__ T scratch[64];
    __shared__ T coef[2];
    const int P = H * W;
    const int kk = kernel != nullptr ? k * k : 0;
    T* taps = reinterpret_cast<T*>(ubn_dynamic_smem);
    T* dtaps = taps + kk;
    T* xc = dtaps + kk;
    T* dzc = xc + (kCached ? P : 0);
    const int pad = (k - 1) / 2;
    const int lane = threadIdx.x % jnorm::kWarpSize;
    const int warp = threadIdx.x / jnorm::kWarpSize;
    const int warps = blockDim.x / jnorm::kWarpSize;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        for (int t = threadIdx.x; t < kk; t += blockDim.x) {
            taps[t] = kernel[c * kk + t];
            dtaps[t] = T(0);
        }
        double acc_dws = 0.0;
        double acc_dbs = 0.0;
        double acc_db = 0.0;
        // Only thread 0 uses w_s: a load in every lane would move blockDim copies of it.
        const T wsc = threadIdx.x == 0 ? ws[c] : T(0);
        for (int n = 0; n < N; ++n) {
            const long long base = (static_cast<long long>(n) * C + c) * P;
            if (threadIdx.x == 0) {
                coef[0] = scale[n * C + c];
            }
            __syncthreads();
            const T s = coef[0];
            T ds = T(0);
            T sx = T(0);
            T sdy = T(0);
            for (int e = threadIdx.x; e < P; e += blockDim.x) {
                const T g = dy[base + e];
                const T xv = xhat[base + e];
                const T zv = z != nullptr ? z[base + e] : xv;
                ds += g * zv;
                sx += xv;
                sdy += g;
                if constexpr (kCached) {
                    xc[e] = xv;
                    dzc[e] = g * s;
                }
            }
            block_reduce_sum2(ds, sx, scratch);
            sdy = block_reduce_sum(sdy, scratch);
            if (threadIdx.x == 0) {
                const double dpre = static_cast<double>(ds) * s * (1.0 - static_cast<double>(s));
                acc_dws += dpre * (static_cast<double>(sx) / P);
                acc_dbs += dpre;
                acc_db += static_cast<double>(s) * sdy;
                coef[1] = static_cast<T>(dpre * wsc / P);
            }
            __syncthreads();
            const T through = coef[1];
            if (dkernel != nullptr) {
                for (int t = warp; t < kk; t += warps) {
                    const int ki = t / k;
                    const int kj = t - ki * k;
                    T acc = T(0);
                    for (int e = lane; e < P; e += jnorm::kWarpSize) {
                        const int h = e / W + ki - pad;
                        const int w = e % W + kj - pad;
                        if (h >= 0 && h < H && w >= 0 && w < W) {
                            const T dz = kCached ? dzc[e] : __ldg(dy + base + e) * s;
                            acc += dz * plane_at<T, kCached>(xc, xhat + base, h * W + w);
                        }
                    }
                    acc = jnorm::warp_reduce_sum(acc);
                    if (lane == 0) {
                        dtaps[t] += acc;
                    }
                }
            }
            if (dxhat != nullptr) {
                for (int e = threadIdx.x; e < P; e += blockDim.x) {
                    T v;
                    if (kernel != nullptr) {
                        const int h = e / W;
                        const int w = e - h * W;
                        v = T(0);
                        for (int ki = 0; ki < k; ++ki) {
                            const int hh = h - ki + pad;
                            if (hh < 0 || hh >= H) {
                                continue;
                            }
                            for (int kj = 0; kj < k; ++kj) {
                                const int ww = w - kj + pad;
                                if (ww >= 0 && ww < W) {
                                    const int q = hh * W + ww;
                                    const T dz = kCached ? dzc[q] : __ldg(dy + base + q) * s;
                                    v += taps[ki * k + kj] * dz;
                                }
                            }
                        }
                    } else {
                        v = kCached ? dzc[e] : dy[base + e] * s;
                    }
                    dxhat[base + e] = v + through;
                }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) {
            if (dws != nullptr) {
                dws[c] = static_cast<T>(acc_dws);
            }
            if (dbs != nullptr) {
                dbs[c] = static_cast<T>(acc_dbs);
            }
            if (dkbias != nullptr) {
                dkbias[c] = static_cast<T>(acc_db);
            }
        }
        if (dkernel != nullptr) {
            for (int t = threadIdx.x; t < kk; t += blockDim.x) {
                dkernel[c * kk + t] = dtaps[t];
            }
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// ubn_center_backward: S = Σ_hw dxc per (n, c); dw_c = Σ_n a·S (in n order); dx = dxc + w_c·S/P.
// Parallelizes over channels (grid.x, blocks loop over their N planes), 16-byte vectors when the
// plane allows; the plane is cached in shared memory between the sum and the dx pass when it fits.
// ---------------------------------------------------------------------------------------------
template <typename T, int W, bool kCached>
__device__ void center_backward(const T* __restrict__ dxc, const T* __restrict__ a, const T* __restrict__ wc,
                                int N, int C, int P, T* __restrict__ dx, T* __restrict__ dwc) {
    __shared__ T scratch[32];
    __shared__ T weight;
    T* cache = reinterpret_cast<T*>(ubn_dynamic_smem);
    const int nv = P / W;
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        if (threadIdx.x == 0) {
            weight = wc[c];
        }
        double acc = 0.0;
        for (int n = 0; n < N; ++n) {
            const long long base = (static_cast<long long>(n) * C + c) * P;
            T sum = T(0);
            for (int v = threadIdx.x; v < nv; v += blockDim.x) {
                T q[W];
                jnorm::load_vec<W>(dxc + base + v * W, q);
                if constexpr (kCached) {
                    jnorm::store_vec<W>(cache + v * W, q);
                }
#pragma unroll
                for (int k = 0; k < W; ++k) {
                    sum += q[k];
                }
            }
            // Its barriers also publish `weight`.
            sum = block_reduce_sum(sum, scratch);
            if (threadIdx.x == 0) {
                acc += static_cast<double>(a[n * C + c]) * sum;
            }
            if (dx != nullptr) {
                const T through = weight * sum / T(P);
                for (int v = threadIdx.x; v < nv; v += blockDim.x) {
                    T q[W];
                    if constexpr (kCached) {
                        jnorm::load_vec_shared<W>(cache + v * W, q);
                    } else {
                        jnorm::load_vec<W>(dxc + base + v * W, q);
                    }
#pragma unroll
                    for (int k = 0; k < W; ++k) {
                        q[k] += through;
                    }
                    jnorm::store_vec<W>(dx + base + v * W, q);
                }
            }
            __syncthreads();
        }
        if (threadIdx.x == 0 && dwc != nullptr) {
            dwc[c] = static_cast<T>(acc);
        }
    }
}

}  // namespace

// `cached`: the plane (and, for the backward, dz) lives in shared memory; `vec`: 16-byte vectors
// (the host sets it when H·W is a multiple of the vector width). The backward walks 2-D
// neighbourhoods element by element and takes no vectors.
#define UBN_VARIANTS(fn, T, ...)                                   \
    if (vec) {                                                     \
        if (cached) {                                              \
            fn<T, jnorm::NormVec<T>::kWidth, true>(__VA_ARGS__);   \
        } else {                                                   \
            fn<T, jnorm::NormVec<T>::kWidth, false>(__VA_ARGS__);  \
        }                                                          \
    } else if (cached) {                                           \
        fn<T, 1, true>(__VA_ARGS__);                               \
    } else {                                                       \
        fn<T, 1, false>(__VA_ARGS__);                              \
    }

#define UBN_CACHED(fn, T, ...)           \
    if (cached) {                        \
        fn<T, 1, true>(__VA_ARGS__);     \
    } else {                             \
        fn<T, 1, false>(__VA_ARGS__);    \
    }

#define UBN_ENTRIES(T, SUF)                                                                                      \
    extern "C" __global__ void ubn_cosine_##SUF(const T* x, int n, int F, double* partial, unsigned* ticket,     \
                                                double* out) {                                                   \
        cosine(x, n, F, partial, ticket, out);                                                                   \
    }                                                                                                            \
    extern "C" __global__ void ubn_center_##SUF(const T* x, const T* wc, int N, int C, int P, T* a, T* xc,     \
                                                int cached, int vec) {                                           \
        UBN_VARIANTS(center, T, x, wc, N, C, P, a, xc)                                                           \
    }                                                                                                            \
    extern "C" __global__ void ubn_calibrate_##SUF(const T* xhat, const T* ws, const T* bs, const T* kernel,    \
                                                   const T* kbias, int k, int N, int C, int H, int W, T* scale,  \
                                                   T* z, T* y, int cached, int vec) {                            \
        UBN_VARIANTS(calibrate, T, xhat, ws, bs, kernel, kbias, k, N, C, H, W, scale, z, y)                      \
    }                                                                                                            \
    extern "C" __global__ void ubn_calibrate_backward_##SUF(const T* dy, const T* xhat, const T* z,             \
                                                            const T* scale, const T* ws, const T* kernel, int k, \
                                                            int N, int C, int H, int W, T* dxhat, T* dws,        \
                                                            T* dbs, T* dkernel, T* dkbias, int cached) {         \
        UBN_CACHED(calibrate_backward, T, dy, xhat, z, scale, ws, kernel, k, N, C, H, W, dxhat, dws, dbs,        \
                   dkernel, dkbias)                                                                              \
    }                                                                                                            \
    extern "C" __global__ void ubn_center_backward_##SUF(const T* dxc, const T* a, const T* wc, int N, int C,   \
                                                         int P, T* dx, T* dwc, int cached, int vec) {            \
        UBN_VARIANTS(center_backward, T, dxc, a, wc, N, C, P, dx, dwc)                                           \
    }

UBN_ENTRIES(float, f32)
UBN_ENTRIES(double, f64)
