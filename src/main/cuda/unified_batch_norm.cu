// Unified Batch Normalization kernels (spec-brn-ubn-baselines.md §3, the co-author's layer):
// the condensation gate's statistic, RBN's centering and scaling calibrations, and BNET's
// depthwise k×k convolution as the affine, forward and backward. The batch normalization in
// the middle runs on the shared norm kernels (norm.cu). The Java side is
// io.jnorm.backend.cuda.CudaUnifiedBatchNorm (its typed launchers mirror these entries); the CPU
// reference with the same names is CpuUnifiedBatchNorm.
//
//   ubn_cosine              the gate's mean pairwise cosine of up to 16 samples, on the device:
//                           the Gram matrix of the samples (136 dot products) in one pass over
//                           their n·F values, feature tiles staged in shared memory; blocks split
//                           the features and the last block (ticket) merges the partial Gram
//                           matrices in block order and writes c in double.
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

constexpr int kCosSamples = 16;
constexpr int kCosPairs = kCosSamples * (kCosSamples + 1) / 2;
constexpr int kCosTile = 128;
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

// ---------------------------------------------------------------------------------------------
// ubn_cosine: c = (Σ_ij S_ij − n)/(n(n − 1)) with S_ij = G_ij/(max(|F_i|, eps)·max(|F_j|, eps)),
// G the Gram matrix of the first n ≤ 16 samples (flattened over C·H·W = F); c = 1 for n = 1.
// Parallelizes over feature tiles (grid.x, blocks loop over tiles): a block stages an n × 128
// tile (coalesced rows), then thread p < n(n+1)/2 accumulates pair p's dot product from shared
// memory (rows padded by one element against bank conflicts). x is read once.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void cosine(const T* __restrict__ x, int n, int F, double* __restrict__ partial,
                       unsigned* __restrict__ ticket, double* __restrict__ out) {
    __shared__ double tile[kCosSamples][kCosTile + 1];
    __shared__ double gram[kCosPairs];
    __shared__ int last_flag;
    const int pairs = n * (n + 1) / 2;
    int pi = 0;
    int pj = 0;
    if (threadIdx.x < pairs) {
        pair_of(threadIdx.x, n, pi, pj);
    }
    double acc = 0.0;
    for (long long f0 = static_cast<long long>(blockIdx.x) * kCosTile; f0 < F;
         f0 += static_cast<long long>(gridDim.x) * kCosTile) {
        for (int q = threadIdx.x; q < n * kCosTile; q += blockDim.x) {
            const int s = q / kCosTile;
            const int k = q - s * kCosTile;
            const long long f = f0 + k;
            tile[s][k] = f < F ? static_cast<double>(x[static_cast<long long>(s) * F + f]) : 0.0;
        }
        __syncthreads();
        if (threadIdx.x < pairs) {
#pragma unroll 8
            for (int k = 0; k < kCosTile; ++k) {
                acc += tile[pi][k] * tile[pj][k];
            }
        }
        __syncthreads();
    }
    if (threadIdx.x < pairs) {
        partial[static_cast<long long>(blockIdx.x) * kCosPairs + threadIdx.x] = acc;
    }
    // Every pair thread wrote a partial: fence them all before thread 0 takes the ticket.
    __threadfence();
    __syncthreads();
    if (!jnorm::norm_last_block(ticket, gridDim.x, &last_flag)) {
        return;
    }
    if (threadIdx.x < pairs) {
        double g = 0.0;
        for (int blk = 0; blk < static_cast<int>(gridDim.x); ++blk) {
            g += __ldcg(partial + static_cast<long long>(blk) * kCosPairs + threadIdx.x);
        }
        gram[threadIdx.x] = g;
    }
    __syncthreads();
    if (threadIdx.x != 0) {
        return;
    }
    *ticket = 0u;
    if (n == 1) {
        *out = 1.0;
        return;
    }
    // Diagonal G_ii sits at pair index i·n − i(i−1)/2.
    double total = 0.0;
    for (int p = 0; p < pairs; ++p) {
        int i;
        int j;
        pair_of(p, n, i, j);
        const double ni = fmax(sqrt(gram[i * n - i * (i - 1) / 2]), kCosEps);
        const double nj = fmax(sqrt(gram[j * n - j * (j - 1) / 2]), kCosEps);
        const double sij = gram[p] / (ni * nj);
        total += i == j ? sij : 2.0 * sij;
    }
    *out = (total - n) / (static_cast<double>(n) * (n - 1));
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
// pass 1 sums the plane (caching it when `kCached`), pass 2 writes xc.
// ---------------------------------------------------------------------------------------------
template <typename T, bool kCached>
__device__ void center(const T* __restrict__ x, const T* __restrict__ wc, int N, int C, int P,
                       T* __restrict__ a, T* __restrict__ xc) {
    __shared__ T scratch[32];
    __shared__ T weight;
    T* cache = reinterpret_cast<T*>(ubn_dynamic_smem);
    for (int i = blockIdx.x; i < N * C; i += gridDim.x) {
        const T* row = x + static_cast<long long>(i) * P;
        if (threadIdx.x == 0) {
            weight = wc[i % C];
        }
        T sum = T(0);
        for (int e = threadIdx.x; e < P; e += blockDim.x) {
            const T v = row[e];
            if constexpr (kCached) {
                cache[e] = v;
            }
            sum += v;
        }
        // Its barriers also publish `weight` (each thread re-reads only cache slots it wrote).
        const T mean = block_reduce_sum(sum, scratch) / T(P);
        if (threadIdx.x == 0) {
            a[i] = mean;
        }
        const T shift = weight * mean;
        T* out = xc + static_cast<long long>(i) * P;
        for (int e = threadIdx.x; e < P; e += blockDim.x) {
            out[e] = plane_at<T, kCached>(cache, row, e) + shift;
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
template <typename T, bool kCached>
__device__ void calibrate(const T* __restrict__ xhat, const T* __restrict__ ws, const T* __restrict__ bs,
                          const T* __restrict__ kernel, const T* __restrict__ kbias, int k, int N, int C, int H,
                          int W, T* __restrict__ scale, T* __restrict__ z, T* __restrict__ y) {
    __shared__ T scratch[32];
    __shared__ T coef[2];
    const int P = H * W;
    T* taps = reinterpret_cast<T*>(ubn_dynamic_smem);
    T* cache = taps + k * k;
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
        for (int e = threadIdx.x; e < P; e += blockDim.x) {
            const T v = row[e];
            if constexpr (kCached) {
                cache[e] = v;
            }
            sum += v;
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
template <typename T, bool kCached>
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
        const T wsc = ws[c];
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
// Parallelizes over channels (grid.x, blocks loop over their N planes); the plane is cached in
// shared memory between the sum and the dx pass when it fits.
// ---------------------------------------------------------------------------------------------
template <typename T, bool kCached>
__device__ void center_backward(const T* __restrict__ dxc, const T* __restrict__ a, const T* __restrict__ wc,
                                int N, int C, int P, T* __restrict__ dx, T* __restrict__ dwc) {
    __shared__ T scratch[32];
    T* cache = reinterpret_cast<T*>(ubn_dynamic_smem);
    for (int c = blockIdx.x; c < C; c += gridDim.x) {
        const T w = wc[c];
        double acc = 0.0;
        for (int n = 0; n < N; ++n) {
            const long long base = (static_cast<long long>(n) * C + c) * P;
            T sum = T(0);
            for (int e = threadIdx.x; e < P; e += blockDim.x) {
                const T v = dxc[base + e];
                if constexpr (kCached) {
                    cache[e] = v;
                }
                sum += v;
            }
            sum = block_reduce_sum(sum, scratch);
            if (threadIdx.x == 0) {
                acc += static_cast<double>(a[n * C + c]) * sum;
            }
            if (dx != nullptr) {
                const T through = w * sum / T(P);
                for (int e = threadIdx.x; e < P; e += blockDim.x) {
                    dx[base + e] = plane_at<T, kCached>(cache, dxc + base, e) + through;
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

#define UBN_CACHED(fn, T, ...)           \
    if (cached) {                        \
        fn<T, true>(__VA_ARGS__);        \
    } else {                             \
        fn<T, false>(__VA_ARGS__);       \
    }

#define UBN_ENTRIES(T, SUF)                                                                                      \
    extern "C" __global__ void ubn_cosine_##SUF(const T* x, int n, int F, double* partial, unsigned* ticket,     \
                                                double* out) {                                                   \
        cosine(x, n, F, partial, ticket, out);                                                                   \
    }                                                                                                            \
    extern "C" __global__ void ubn_center_##SUF(const T* x, const T* wc, int N, int C, int P, T* a, T* xc,     \
                                                int cached) {                                                    \
        UBN_CACHED(center, T, x, wc, N, C, P, a, xc)                                                             \
    }                                                                                                            \
    extern "C" __global__ void ubn_calibrate_##SUF(const T* xhat, const T* ws, const T* bs, const T* kernel,    \
                                                   const T* kbias, int k, int N, int C, int H, int W, T* scale,  \
                                                   T* z, T* y, int cached) {                                     \
        UBN_CACHED(calibrate, T, xhat, ws, bs, kernel, kbias, k, N, C, H, W, scale, z, y)                        \
    }                                                                                                            \
    extern "C" __global__ void ubn_calibrate_backward_##SUF(const T* dy, const T* xhat, const T* z,             \
                                                            const T* scale, const T* ws, const T* kernel, int k, \
                                                            int N, int C, int H, int W, T* dxhat, T* dws,        \
                                                            T* dbs, T* dkernel, T* dkbias, int cached) {         \
        UBN_CACHED(calibrate_backward, T, dy, xhat, z, scale, ws, kernel, k, N, C, H, W, dxhat, dws, dbs,        \
                   dkernel, dkbias)                                                                              \
    }                                                                                                            \
    extern "C" __global__ void ubn_center_backward_##SUF(const T* dxc, const T* a, const T* wc, int N, int C,   \
                                                         int P, T* dx, T* dwc, int cached) {                     \
        UBN_CACHED(center_backward, T, dxc, a, wc, N, C, P, dx, dwc)                                             \
    }

UBN_ENTRIES(float, f32)
UBN_ENTRIES(double, f64)
