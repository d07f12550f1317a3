// Normalization kernels shared by BatchNorm, GroupNorm, LayerNorm and InstanceNorm (and through
// them the BN / GN / IN parts of Batch Renorm, Batch-Channel Norm, Switchable Norm and UBN).
// The Java side is io.jnorm.backend.cuda.CudaNorm -> CudaNormEngine (which kernels, which grid)
// -> CudaNormPtx (typed launchers); the CPU reference is io.jnorm.backend.cpu.CpuNorm.
//
// Statistic kernels work on a "statistic geometry" (NormGeom in common/norm_stats.cuh): the M
// elements that share one mean / variance are runs of contiguous elements, which describes the
// per-channel statistics of BN (N runs of L) and the per-(n, group) statistics of GN, IN and LN
// (one run of (C/G)·L) with the same index formula. Two regimes, chosen on the host by whether
// one statistic fits in shared memory:
//   fits on chip   norm_fwd_fused / norm_bwd_fused: one block owns whole statistics, caches them
//                  in shared memory and reads global memory once: forward = read x, write y
//                  (2 tensor transfers, 1 launch); backward = read dy and x, write dx (3, 1).
//   does not fit   several blocks per statistic, merged by a last-block-done ticket:
//                  forward  norm_moments + norm_normalize               (3 transfers, 2 launches)
//                  backward norm_bwd_sums + norm_bwd_dx                 (5 transfers, 2 launches)
// Eval-mode backward with per-channel constants (BN / IN with running statistics) is
// norm_bwd_channel alone: dx and dweight / dbias in one pass (3 transfers).
//
// Column kernels (norm_col_*) take per-channel statistics of channels shorter than a warp
// (BatchNorm1d, BN on small maps), where runs of L < 32 elements would scatter each warp request
// over many sectors: they read the tensor as [N rows, C·L columns] instead, with the same budgets
// (fused 2 / 3 transfers in 1 launch, streaming 3 / 5 in 2, eval 3 in 1).
//
// norm_fwd_est and norm_fwd_renorm are norm_fwd_fused for EstBN (Batch-Channel Norm stage 1) and
// Batch Renorm: batch moments, the layer's per-channel update, and the normalize, in one launch.
//
// norm_update_running is the standalone running-statistics update (InstanceNorm averages its
// per-instance statistics over n); BatchNorm's update is folded into the statistics kernels.
//
// Arithmetic is in T (float accumulates in float, as PyTorch does); rstd = 1/sqrt(var + eps) is
// computed with IEEE sqrt and division in every kernel, so forward and backward agree. No kernel
// uses floating-point atomics: every reduction has a fixed order, so results are reproducible.
#include "common/norm_stats.cuh"
#include "common/stat_updates.cuh"

using jnorm::block_reduce_sum;
using jnorm::block_reduce_sum2;
using jnorm::NormGeom;
using jnorm::NormVec;
using jnorm::Welford;

// One dynamic shared-memory array for every instantiation (the element type differs per
// kernel, so it is declared as bytes and cast).
extern __shared__ __align__(16) unsigned char norm_dynamic_smem[];

namespace {

template <typename T>
__device__ __forceinline__ T rstd_of(T var, T eps) {
    return T(1) / sqrt(var + eps);
}

// BatchNorm's num_batches_tracked += 1, folded into the running update so that counting a step
// costs no launch: the one thread that updates channel 0 bumps it (counter may be null).
__device__ __forceinline__ void bump_counter(double* __restrict__ counter, int channel) {
    if (counter != nullptr && channel == 0) {
        *counter += 1.0;
    }
}

// running = (1 - f)·running + f·avg_i batch[i·C + c], the variance with Bessel's factor.
template <typename T>
__device__ void running_update(const T* __restrict__ bmean, const T* __restrict__ bvar, T* __restrict__ rmean,
                               T* __restrict__ rvar, int channels, int instances, T factor, T bessel, int first,
                               int step) {
    for (int c = first; c < channels; c += step) {
        T m = T(0);
        T v = T(0);
        for (int i = 0; i < instances; ++i) {
            m += bmean[i * channels + c];
            v += bvar[i * channels + c] * bessel;
        }
        m /= T(instances);
        v /= T(instances);
        rmean[c] = (T(1) - factor) * rmean[c] + factor * m;
        rvar[c] = (T(1) - factor) * rvar[c] + factor * v;
    }
}


// Stages weight (and bias) of the channels that elements [e0, e1) of a statistic touch, from
// channel c0 on, into shared memory; returns the first staged local channel. A streaming block
// touches only its chunk's channels, so for LayerNorm rows this is the chunk's slice of the
// weight, not the whole row. gridDim.y is a multiple of `groups`, so every statistic the block
// visits has the same channels and the table is loaded once per block.
template <typename T>
__device__ int stage_channels(const T* __restrict__ w, const T* __restrict__ b, T* wt, T* bt, const NormGeom& g,
                              int c0, int e0, int e1) {
    const int cl0 = g.cg == 1 ? 0 : e0 / g.L;
    const int count = g.cg == 1 ? 1 : (e1 - 1) / g.L - cl0 + 1;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        wt[j] = w != nullptr ? w[c0 + cl0 + j] : T(1);
        if (bt != nullptr) {
            bt[j] = b != nullptr ? b[c0 + cl0 + j] : T(0);
        }
    }
    return cl0;
}


// Adds Σ dy·x̂ and Σ dy over elements [e0, e1) of one statistic (one run: channel cl spans
// elements [cl·L, cl·L + L)) to dwa[cl - cl0] and dba[cl - cl0] for the `count` channels from
// cl0 on, reading dy and x̂ from shared-memory copies indexed e - e0. A warp per channel when
// channels are long (L >= 32: lanes stride over it, then a shuffle reduction), a thread per
// channel otherwise; either way a fixed order, no atomics. The caller synchronizes before (the
// copies were written by other threads) and after (before anyone reads the accumulators).
template <typename T>
__device__ void add_channel_sums(const T* dyc, const T* xh, int e0, int e1, int L, int cl0, int count, T* dwa,
                                 T* dba) {
    const int lane = threadIdx.x % jnorm::kWarpSize;
    const int warp = threadIdx.x / jnorm::kWarpSize;
    const int warps = blockDim.x / jnorm::kWarpSize;
    const bool per_warp = L >= jnorm::kWarpSize;
    const int first = per_warp ? warp : threadIdx.x;
    const int step = per_warp ? warps : blockDim.x;
    for (int j = first; j < count; j += step) {
        const int lo = max(e0, (cl0 + j) * L);
        const int hi = min(e1, (cl0 + j + 1) * L);
        T a = T(0);
        T bsum = T(0);
        for (int e = lo + (per_warp ? lane : 0); e < hi; e += per_warp ? jnorm::kWarpSize : 1) {
            a += dyc[e - e0] * xh[e - e0];
            bsum += dyc[e - e0];
        }
        if (per_warp) {
            a = jnorm::warp_reduce_sum(a);
            bsum = jnorm::warp_reduce_sum(bsum);
        }
        if (!per_warp || lane == 0) {
            dwa[j] += a;
            dba[j] += bsum;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// norm_fwd_fused: moments + normalize + affine (+ BN running update) in one launch.
// Parallelizes over statistics (grid.y; a block loops s += gridDim.y, and gridDim.y is a
// multiple of `groups`, so all statistics of a block share the same channels and the block
// loads their weight / bias once). Within a statistic, threads stride over 16-byte vectors
// that are copied into shared memory on the way in; the exact two-pass variance and the output
// then come from shared memory, so x is read from global memory exactly once.
// ---------------------------------------------------------------------------------------------
//
// The same kernel serves two layers whose per-channel update must happen between the statistics
// and the normalize (Mode, per-channel layouts only: one channel per statistic, `extra` holds
// their scalars; the thread that owns the statistic applies the formulas of
// common/stat_updates.cuh in double, rounding once on store like the CPU reference, and the block
// normalizes from the cached statistic, so x is still read once):
//   kEstimate  EstBN's training forward (norm_fwd_est, Batch-Channel Norm stage 1): rmean / rvar
//              are the estimates μ̂, σ̂², updated at extra.rate from the batch moments, and x is
//              normalized with the UPDATED estimates.
//   kRenorm    Batch Renorm's training forward (norm_fwd_renorm): rmean / rvar are the moving μ, σ;
//              r, d come from them BEFORE the update (written to extra.r / extra.d), w / b are γ / β
//              folded into scale = γ·r (written to extra.scale, the backward's weight) and
//              shift = γ·d + β, y = (x − μ_B)·rstd_B·scale + shift, then μ, σ move at extra.rate.
enum FusedMode { kBatchNorm, kEstimate, kRenorm };

template <typename T>
struct FusedExtra {
    T* r;
    T* d;
    T* scale;
    double rate;  // EstBN's rate, or Batch Renorm's momentum
    double eps;
    double rmax;
    double dmax;
};

template <typename T, int W, FusedMode Mode>
__device__ void fwd_fused_impl(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                               T* __restrict__ y, T* __restrict__ mean_out, T* __restrict__ var_out,
                               T* __restrict__ rmean, T* __restrict__ rvar, const NormGeom g, T eps, T factor,
                               T bessel, const FusedExtra<T> extra, double* __restrict__ counter) {
    __shared__ T scratch[32];
    __shared__ T folded[3];
    T* cache = reinterpret_cast<T*>(norm_dynamic_smem);
    T* wt = cache + g.M;
    T* bt = wt + g.cg;
    const int c0 = g.first_channel(blockIdx.y);
    for (int j = threadIdx.x; j < g.cg; j += blockDim.x) {
        wt[j] = w != nullptr ? w[c0 + j] : T(1);
        bt[j] = b != nullptr ? b[c0 + j] : T(0);
    }
    __syncthreads();
    const int nv = g.M / W;
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        T sum = T(0);
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            const int e = v * W;
            T q[W];
            jnorm::load_vec<W>(x + g.index(s, e), q);
            jnorm::store_vec<W>(cache + e, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                sum += q[k];
            }
        }
        const T mu = block_reduce_sum(sum, scratch) / T(g.M);
        // Every thread re-reads only the vectors it stored itself: no barrier needed here.
        T sq = T(0);
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            T q[W];
            jnorm::load_vec_shared<W>(cache + v * W, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                const T d = q[k] - mu;
                sq += d * d;
            }
        }
        const T var = block_reduce_sum(sq, scratch) / T(g.M);
        T centre = mu;
        T rstd = rstd_of(var, eps);
        if constexpr (Mode != kBatchNorm) {
            if (threadIdx.x == 0) {
                if constexpr (Mode == kEstimate) {
                    T em = rmean[s];
                    T ev = rvar[s];
                    jnorm::estimate_update<T>(mu, var, extra.rate, em, ev);
                    rmean[s] = em;
                    rvar[s] = ev;
                    folded[0] = em;
                    folded[1] = ev;
                } else {
                    T r;
                    T d;
                    jnorm::renorm_correction<T>(mu, var, rmean[s], rvar[s], extra.eps, extra.rmax, extra.dmax, r, d);
                    T scale;
                    T shift;
                    jnorm::renorm_fold<T>(wt[0], bt[0], r, d, scale, shift);
                    extra.r[s] = r;
                    extra.d[s] = d;
                    extra.scale[s] = scale;
                    T mm = rmean[s];
                    T ms = rvar[s];
                    jnorm::renorm_update_moving<T>(mu, var, extra.eps, extra.rate, mm, ms);
                    rmean[s] = mm;
                    rvar[s] = ms;
                    folded[1] = scale;
                    folded[2] = shift;
                }
            }
            __syncthreads();
            if constexpr (Mode == kEstimate) {
                centre = folded[0];
                rstd = rstd_of(folded[1], eps);
            }
        }
        // Batch Renorm applies its folded affine; the others the per-channel one.
        const T fscale = Mode == kRenorm ? folded[1] : T(0);
        const T fshift = Mode == kRenorm ? folded[2] : T(0);
        if constexpr (Mode != kBatchNorm) {
            // the next statistic's owner may overwrite `folded` only after every thread read it
            __syncthreads();
        }
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            const int e = v * W;
            const int r = e % g.run_len;
            T q[W];
            jnorm::load_vec_shared<W>(cache + e, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                const int cl = (r + k) / g.L;
                q[k] = Mode == kRenorm ? (q[k] - centre) * rstd * fscale + fshift
                                       : (q[k] - centre) * rstd * wt[cl] + bt[cl];
            }
            jnorm::store_vec<W>(y + g.index(s, e), q);
        }
        if (threadIdx.x == 0) {
            if (mean_out != nullptr) {
                mean_out[s] = mu;
                var_out[s] = var;
            }
            if (Mode == kBatchNorm && rmean != nullptr) {
                rmean[s] = (T(1) - factor) * rmean[s] + factor * mu;
                rvar[s] = (T(1) - factor) * rvar[s] + factor * var * bessel;
                bump_counter(counter, s);
            }
        }
    }
}

template <typename T, int W>
__device__ void fwd_fused(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                          T* __restrict__ y, T* __restrict__ mean_out, T* __restrict__ var_out,
                          T* __restrict__ rmean, T* __restrict__ rvar, const NormGeom g, T eps, T factor,
                          T bessel, double* __restrict__ counter) {
    fwd_fused_impl<T, W, kBatchNorm>(x, w, b, y, mean_out, var_out, rmean, rvar, g, eps, factor, bessel,
                                     FusedExtra<T>{nullptr, nullptr, nullptr, 0.0, 0.0, 0.0, 0.0}, counter);
}

template <typename T, int W>
__device__ void fwd_est(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                        T* __restrict__ y, T* __restrict__ mean_out, T* __restrict__ var_out,
                        T* __restrict__ est_mean, T* __restrict__ est_var, const NormGeom g, T eps, double rate) {
    fwd_fused_impl<T, W, kEstimate>(x, w, b, y, mean_out, var_out, est_mean, est_var, g, eps, T(0), T(0),
                                    FusedExtra<T>{nullptr, nullptr, nullptr, rate, 0.0, 0.0, 0.0}, nullptr);
}

template <typename T, int W>
__device__ void fwd_renorm(const T* __restrict__ x, const T* __restrict__ gamma, const T* __restrict__ beta,
                           T* __restrict__ y, T* __restrict__ mean_out, T* __restrict__ var_out,
                           T* __restrict__ moving_mean, T* __restrict__ moving_std, T* __restrict__ r,
                           T* __restrict__ d, T* __restrict__ scale, const NormGeom g, double eps, double rmax,
                           double dmax, double momentum) {
    fwd_fused_impl<T, W, kRenorm>(x, gamma, beta, y, mean_out, var_out, moving_mean, moving_std, g,
                                  static_cast<T>(eps), T(0), T(0),
                                  FusedExtra<T>{r, d, scale, momentum, eps, rmax, dmax}, nullptr);
}

// ---------------------------------------------------------------------------------------------
// norm_moments: streaming mean / biased variance when a statistic does not fit on chip.
// Parallelizes over (chunk of a statistic = grid.x, statistic = grid.y): per-thread Welford over
// 16-byte vectors, xor-shuffle Welford merge, warp partials merged by every warp; with several
// chunks, each block stores its (n, mean, m2) and the last block of the statistic (ticket)
// merges the partials in block order and finalizes, including the BN running update.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void moments(const T* __restrict__ x, T* __restrict__ mean_out, T* __restrict__ var_out,
                        T* __restrict__ rmean, T* __restrict__ rvar, T* __restrict__ partial,
                        unsigned* __restrict__ ticket, const NormGeom g, int chunk, T factor, T bessel,
                        double* __restrict__ counter) {
    __shared__ Welford<T> scratch[32];
    __shared__ int last_flag;
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        Welford<T> st{T(0), T(0), T(0)};
        for (int v = e0 / W + threadIdx.x; v < e1 / W; v += blockDim.x) {
            T q[W];
            jnorm::load_vec<W>(x + g.index(s, v * W), q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                jnorm::welford_push(st, q[k]);
            }
        }
        st = jnorm::block_welford(st, scratch);
        bool finalize = gridDim.x == 1;
        if (!finalize) {
            T* p = partial + 3 * (static_cast<long long>(s) * gridDim.x + blockIdx.x);
            if (threadIdx.x == 0) {
                p[0] = st.n;
                p[1] = st.mean;
                p[2] = st.m2;
            }
            finalize = jnorm::norm_last_block(ticket + s, gridDim.x, &last_flag);
            if (finalize) {
                Welford<T> m{T(0), T(0), T(0)};
                const T* ps = partial + 3 * static_cast<long long>(s) * gridDim.x;
                for (int j = threadIdx.x; j < static_cast<int>(gridDim.x); j += blockDim.x) {
                    m = jnorm::welford_merge(m, Welford<T>{__ldcg(ps + 3 * j), __ldcg(ps + 3 * j + 1),
                                                                 __ldcg(ps + 3 * j + 2)});
                }
                st = jnorm::block_welford(m, scratch);
                if (threadIdx.x == 0) {
                    ticket[s] = 0u;
                }
            }
        }
        if (finalize && threadIdx.x == 0) {
            const T var = st.m2 / T(g.M);
            mean_out[s] = st.mean;
            var_out[s] = var;
            if (rmean != nullptr) {
                rmean[s] = (T(1) - factor) * rmean[s] + factor * st.mean;
                rvar[s] = (T(1) - factor) * rvar[s] + factor * var * bessel;
                bump_counter(counter, s);
            }
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// norm_normalize: y = (x - mean_s)·rstd_s·w_c + b_c over (chunk = grid.x, statistic = grid.y).
// The statistic's mean / rstd are loaded once per block by thread 0 and broadcast through
// shared memory, and weight / bias of the chunk's channels are staged in shared memory
// (stage_channels), so global traffic is x in and y out. Block (0, 0) also does
// the running update over `instances` blocks of statistics (InstanceNorm) when asked.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void normalize(const T* __restrict__ x, const T* __restrict__ mean, const T* __restrict__ var,
                          const T* __restrict__ w, const T* __restrict__ b, T* __restrict__ y, const NormGeom g,
                          int chunk, T eps, T* __restrict__ rmean, T* __restrict__ rvar, int channels,
                          int instances, T factor, T bessel) {
    __shared__ T stat[2];
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    T* wt = reinterpret_cast<T*>(norm_dynamic_smem);
    T* bt = wt + (g.cg == 1 ? 1 : chunk / g.L + 2);
    const int cl0 = stage_channels(w, b, wt, bt, g, g.first_channel(blockIdx.y), e0, e1);
    if (rmean != nullptr && blockIdx.x == 0 && blockIdx.y == 0) {
        running_update(mean, var, rmean, rvar, channels, instances, factor, bessel, threadIdx.x, blockDim.x);
    }
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        if (threadIdx.x == 0) {
            stat[0] = mean[s];
            stat[1] = rstd_of(var[s], eps);
        }
        __syncthreads();
        const T mu = stat[0];
        const T rstd = stat[1];
        for (int v = e0 / W + threadIdx.x; v < e1 / W; v += blockDim.x) {
            const int e = v * W;
            const int r = e % g.run_len;
            const long long idx = g.index(s, e);
            T q[W];
            jnorm::load_vec<W>(x + idx, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                const int cl = (r + k) / g.L - cl0;
                q[k] = (q[k] - mu) * rstd * wt[cl] + bt[cl];
            }
            jnorm::store_vec<W>(y + idx, q);
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// norm_bwd_fused: the whole backward of statistics that fit on chip, one launch.
// Parallelizes over statistics like fwd_fused (grid.y a multiple of `groups`; the block's
// statistics share channels). Pass 1 reads dy and x once, caches dy and x̂ in shared memory and
// block-reduces Σg and Σg·x̂ (g = dy·w_c); pass 2 writes dx from shared memory. dweight / dbias
// accumulate per channel in shared memory across the block's statistics (a block reduction for
// one channel per statistic, a warp per channel for long channels, a thread per channel for
// short ones: all fixed orders). With several blocks per group (`chunks` = gridDim.y / groups),
// each stores its per-channel partials and the group's last block (ticket) sums them in block
// order.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void bwd_fused(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,
                          const T* __restrict__ var, const T* __restrict__ w, T* __restrict__ dx,
                          T* __restrict__ dw, T* __restrict__ db, T* __restrict__ partial,
                          unsigned* __restrict__ ticket, const NormGeom g, T eps, int train) {
    __shared__ T scratch[64];
    __shared__ T stat[2];
    __shared__ int last_flag;
    T* dyc = reinterpret_cast<T*>(norm_dynamic_smem);
    T* xh = dyc + g.M;
    T* wt = xh + g.M;
    T* dwa = wt + g.cg;
    T* dba = dwa + g.cg;
    const bool affine_grads = dw != nullptr || db != nullptr;
    const int c0 = g.first_channel(blockIdx.y);
    for (int j = threadIdx.x; j < g.cg; j += blockDim.x) {
        wt[j] = w != nullptr ? w[c0 + j] : T(1);
        dwa[j] = T(0);
        dba[j] = T(0);
    }
    const int nv = g.M / W;
    const T inv_m = T(1) / T(g.M);
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        if (threadIdx.x == 0) {
            stat[0] = mean[s];
            stat[1] = rstd_of(var[s], eps);
        }
        __syncthreads();
        const T mu = stat[0];
        const T rstd = stat[1];
        T sg = T(0);
        T sgx = T(0);
        T sdy = T(0);
        T sdyx = T(0);
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            const int e = v * W;
            const int r = e % g.run_len;
            const long long idx = g.index(s, e);
            T qd[W];
            T qx[W];
            jnorm::load_vec<W>(dy + idx, qd);
            jnorm::load_vec<W>(x + idx, qx);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                qx[k] = (qx[k] - mu) * rstd;
                const T gk = qd[k] * wt[(r + k) / g.L];
                sg += gk;
                sgx += gk * qx[k];
                sdy += qd[k];
                sdyx += qd[k] * qx[k];
            }
            jnorm::store_vec<W>(dyc + e, qd);
            jnorm::store_vec<W>(xh + e, qx);
        }
        if (train) {
            block_reduce_sum2(sg, sgx, scratch);
        }
        if (dx != nullptr) {
            const T mg = sg * inv_m;
            const T mgx = sgx * inv_m;
            for (int v = threadIdx.x; v < nv; v += blockDim.x) {
                const int e = v * W;
                const int r = e % g.run_len;
                T qd[W];
                T qx[W];
                jnorm::load_vec_shared<W>(dyc + e, qd);
                jnorm::load_vec_shared<W>(xh + e, qx);
#pragma unroll
                for (int k = 0; k < W; ++k) {
                    const T gk = qd[k] * wt[(r + k) / g.L];
                    qd[k] = train ? rstd * (gk - mg - qx[k] * mgx) : gk * rstd;
                }
                jnorm::store_vec<W>(dx + g.index(s, e), qd);
            }
        }
        if (affine_grads) {
            if (g.cg == 1) {
                block_reduce_sum2(sdyx, sdy, scratch);
                if (threadIdx.x == 0) {
                    dwa[0] += sdyx;
                    dba[0] += sdy;
                }
            } else {
                // Channel cl of this statistic is the contiguous range [cl·L, cl·L + L) of the
                // cache (runs = 1 for every per-group layout with more than one channel).
                __syncthreads();
                add_channel_sums(dyc, xh, 0, g.M, g.L, 0, g.cg, dwa, dba);
            }
        }
        __syncthreads();
    }
    if (!affine_grads) {
        return;
    }
    const int chunks = gridDim.y / g.groups;
    const int channels = g.groups * g.cg;
    if (chunks <= 1) {
        for (int j = threadIdx.x; j < g.cg; j += blockDim.x) {
            if (dw != nullptr) {
                dw[c0 + j] = dwa[j];
            }
            if (db != nullptr) {
                db[c0 + j] = dba[j];
            }
        }
        return;
    }
    const int chunk = blockIdx.y / g.groups;
    for (int j = threadIdx.x; j < g.cg; j += blockDim.x) {
        T* p = partial + 2 * (static_cast<long long>(chunk) * channels + c0 + j);
        p[0] = dwa[j];
        p[1] = dba[j];
    }
    // Every thread wrote partials: fence them all before thread 0 takes the ticket.
    __threadfence();
    __syncthreads();
    if (jnorm::norm_last_block(ticket + blockIdx.y % g.groups, chunks, &last_flag)) {
        for (int j = threadIdx.x; j < g.cg; j += blockDim.x) {
            T a = T(0);
            T bsum = T(0);
            for (int q = 0; q < chunks; ++q) {
                const T* p = partial + 2 * (static_cast<long long>(q) * channels + c0 + j);
                a += __ldcg(p);
                bsum += __ldcg(p + 1);
            }
            if (dw != nullptr) {
                dw[c0 + j] = a;
            }
            if (db != nullptr) {
                db[c0 + j] = bsum;
            }
        }
        if (threadIdx.x == 0) {
            ticket[blockIdx.y % g.groups] = 0u;
        }
    }
}


// Whether each channel of the streaming backward is covered by exactly one norm_bwd_sums block
// (one block row per group, and no channel split across chunks), so that block can write
// dweight / dbias itself and norm_bwd_dx has nothing to finalize.
__device__ __forceinline__ bool bwd_direct(const NormGeom& g, int chunk) {
    const bool one_row = static_cast<int>(gridDim.y) == g.groups;
    return one_row && (gridDim.x == 1 || (g.cg > 1 && chunk % g.L == 0));
}

// ---------------------------------------------------------------------------------------------
// norm_bwd_sums: the reduction pass of the streaming backward (statistics too large for one
// block), over (chunk = grid.x, statistic = grid.y; gridDim.y a multiple of `groups`, so a
// block's statistics share channels). It reads dy and x once and produces
//   - per statistic Σg and Σg·x̂ (g = dy·w_c) into `sums`, merged across chunks by the ticket
//     scheme of norm_moments (per-statistic partials in `stat_partial`);
//   - per block and channel Σ dy·x̂, Σ dy over the block's chunk of all its statistics, into
//     `ch_partial` [gridDim.y][gridDim.x][2][slots]; norm_bwd_dx turns them into dweight / dbias.
// With several channels per statistic the chunk of dy and x̂ is cached in shared memory for the
// per-channel sums (add_channel_sums); with one channel per statistic its block sums are the
// channel's, and w is applied to the totals instead.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void bwd_sums(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,
                         const T* __restrict__ var, const T* __restrict__ w, T* __restrict__ sums,
                         T* __restrict__ dw, T* __restrict__ db, T* __restrict__ stat_partial,
                         T* __restrict__ ch_partial, unsigned* __restrict__ ticket, const NormGeom g, int chunk,
                         T eps) {
    __shared__ T scratch[64];
    __shared__ T stat[2];
    __shared__ int last_flag;
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    const bool multi = g.cg > 1;
    const int slots = multi ? chunk / g.L + 2 : 1;
    T* dyc = reinterpret_cast<T*>(norm_dynamic_smem);
    T* xh = dyc + (multi ? chunk : 0);
    T* wt = xh + (multi ? chunk : 0);
    T* dwa = wt + slots;
    T* dba = dwa + slots;
    const int cl0 = multi ? stage_channels<T>(w, nullptr, wt, nullptr, g, g.first_channel(blockIdx.y), e0, e1) : 0;
    const int count = multi ? (e1 - 1) / g.L - cl0 + 1 : 1;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        dwa[j] = T(0);
        dba[j] = T(0);
    }
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        if (threadIdx.x == 0) {
            stat[0] = mean[s];
            stat[1] = rstd_of(var[s], eps);
        }
        __syncthreads();
        const T mu = stat[0];
        const T rstd = stat[1];
        const int cs = g.first_channel(s);
        T a = T(0);
        T bsum = T(0);
        for (int v = e0 / W + threadIdx.x; v < e1 / W; v += blockDim.x) {
            const int e = v * W;
            const int r = e % g.run_len;
            const long long idx = g.index(s, e);
            T qd[W];
            T qx[W];
            jnorm::load_vec<W>(dy + idx, qd);
            jnorm::load_vec<W>(x + idx, qx);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                qx[k] = (qx[k] - mu) * rstd;
                const T gk = multi ? qd[k] * wt[(r + k) / g.L - cl0] : qd[k];
                a += gk;
                bsum += gk * qx[k];
            }
            if (multi) {
                jnorm::store_vec<W>(dyc + (e - e0), qd);
                jnorm::store_vec<W>(xh + (e - e0), qx);
            }
        }
        block_reduce_sum2(a, bsum, scratch);
        if (multi) {
            add_channel_sums(dyc, xh, e0, e1, g.L, cl0, count, dwa, dba);
        } else if (threadIdx.x == 0) {
            dwa[0] += bsum;
            dba[0] += a;
        }
        bool finalize = gridDim.x == 1;
        if (!finalize) {
            T* p = stat_partial + 2 * (static_cast<long long>(s) * gridDim.x + blockIdx.x);
            if (threadIdx.x == 0) {
                p[0] = a;
                p[1] = bsum;
            }
            finalize = jnorm::norm_last_block(ticket + s, gridDim.x, &last_flag);
            if (finalize) {
                a = T(0);
                bsum = T(0);
                const T* ps = stat_partial + 2 * static_cast<long long>(s) * gridDim.x;
                for (int j = threadIdx.x; j < static_cast<int>(gridDim.x); j += blockDim.x) {
                    a += __ldcg(ps + 2 * j);
                    bsum += __ldcg(ps + 2 * j + 1);
                }
                block_reduce_sum2(a, bsum, scratch);
                if (threadIdx.x == 0) {
                    ticket[s] = 0u;
                }
            }
        }
        if (finalize && threadIdx.x == 0) {
            const T wc = !multi && w != nullptr ? w[cs] : T(1);
            sums[2 * s] = a * wc;
            sums[2 * s + 1] = bsum * wc;
        }
        __syncthreads();
    }
    if (bwd_direct(g, chunk)) {
        // This block alone covers its channels: its sums are final.
        const int c0 = g.first_channel(blockIdx.y) + cl0;
        for (int j = threadIdx.x; j < count; j += blockDim.x) {
            if (dw != nullptr) {
                dw[c0 + j] = dwa[j];
            }
            if (db != nullptr) {
                db[c0 + j] = dba[j];
            }
        }
        return;
    }
    // [dweight slots][dbias slots] per block: consecutive threads store contiguously.
    T* out = ch_partial + 2 * (static_cast<long long>(blockIdx.y) * gridDim.x + blockIdx.x) * slots;
    for (int j = threadIdx.x; j < count; j += blockDim.x) {
        out[j] = dwa[j];
        out[slots + j] = dba[j];
    }
}

// ---------------------------------------------------------------------------------------------
// norm_bwd_dx: the elementwise pass of the streaming backward over the same grid as
// norm_bwd_sums: dx = rstd·(g - Σg/M - x̂·Σg·x̂/M) (train) or g·rstd (constant statistics),
// the statistic's scalars broadcast from shared memory, the chunk's weights staged. The blocks
// of the first group row also finalize dweight / dbias: each channel is owned by the chunk its
// first element falls in, which sums the channel's norm_bwd_sums partials over the block rows
// and chunks in a fixed order (no atomics, no extra launch).
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void bwd_dx(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,
                       const T* __restrict__ var, const T* __restrict__ w, const T* __restrict__ sums,
                       T* __restrict__ dx, T* __restrict__ dw, T* __restrict__ db,
                       const T* __restrict__ ch_partial, const NormGeom g, int chunk, T eps, int train) {
    __shared__ T stat[4];
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    const bool multi = g.cg > 1;
    const int slots = multi ? chunk / g.L + 2 : 1;
    if ((dw != nullptr || db != nullptr) && static_cast<int>(blockIdx.y) < g.groups && !bwd_direct(g, chunk)) {
        const int grp = blockIdx.y;
        const int rows = gridDim.y / g.groups;
        const int chunks = gridDim.x;
        const int first = multi ? (e0 + g.L - 1) / g.L : (blockIdx.x == 0 ? 0 : 1);
        const int last = multi ? min(g.cg, (e0 + chunk + g.L - 1) / g.L) : 1;
        for (int cl = first + threadIdx.x; cl < last; cl += blockDim.x) {
            const int j_first = multi ? cl * g.L / chunk : 0;
            const int j_last = multi ? min(chunks - 1, ((cl + 1) * g.L - 1) / chunk) : chunks - 1;
            T a = T(0);
            T bsum = T(0);
            for (int row = 0; row < rows; ++row) {
                const long long by = static_cast<long long>(row) * g.groups + grp;
                for (int j = j_first; j <= j_last; ++j) {
                    const int slot = multi ? cl - j * chunk / g.L : 0;
                    const T* p = ch_partial + 2 * (by * chunks + j) * slots + slot;
                    a += p[0];
                    bsum += p[slots];
                }
            }
            if (dw != nullptr) {
                dw[grp * g.cg + cl] = a;
            }
            if (db != nullptr) {
                db[grp * g.cg + cl] = bsum;
            }
        }
    }
    if (dx == nullptr) {
        return;
    }
    T* wt = reinterpret_cast<T*>(norm_dynamic_smem);
    const int cl0 = stage_channels<T>(w, nullptr, wt, nullptr, g, g.first_channel(blockIdx.y), e0, e1);
    const T inv_m = T(1) / T(g.M);
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        if (threadIdx.x == 0) {
            stat[0] = mean[s];
            stat[1] = rstd_of(var[s], eps);
            stat[2] = train ? sums[2 * s] * inv_m : T(0);
            stat[3] = train ? sums[2 * s + 1] * inv_m : T(0);
        }
        __syncthreads();
        const T mu = stat[0];
        const T rstd = stat[1];
        const T mg = stat[2];
        const T mgx = stat[3];
        for (int v = e0 / W + threadIdx.x; v < e1 / W; v += blockDim.x) {
            const int e = v * W;
            const int r = e % g.run_len;
            const long long idx = g.index(s, e);
            T qd[W];
            T qx[W];
            jnorm::load_vec<W>(dy + idx, qd);
            jnorm::load_vec<W>(x + idx, qx);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                const T xhat = (qx[k] - mu) * rstd;
                const T gk = qd[k] * wt[(r + k) / g.L - cl0];
                qd[k] = train ? rstd * (gk - mg - xhat * mgx) : gk * rstd;
            }
            jnorm::store_vec<W>(dx + idx, qd);
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// norm_bwd_channel: per-channel dweight = Σ dy·x̂ and dbias = Σ dy over (n, l), and when dx is
// given the constant-statistics dx = dy·w_c·rstd in the same pass (eval-mode backward: 3
// transfers). Parallelizes over (chunk of the channel's N·L elements = grid.x, channel = grid.y);
// the statistic of run n (c, or n·G + c/(C/G)) is looked up from a shared-memory table of the
// channel's N (mean, rstd) pairs when it fits (`table`), else read per vector. Grid-level merge
// by ticket in block order.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void bwd_channel(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,
                            const T* __restrict__ var, const T* __restrict__ w, T* __restrict__ dx,
                            T* __restrict__ dw, T* __restrict__ db, T* __restrict__ partial,
                            unsigned* __restrict__ ticket, int N, int C, int L, int G, int per_channel, int chunk,
                            int table, T eps) {
    __shared__ T scratch[64];
    __shared__ int last_flag;
    T* tab = reinterpret_cast<T*>(norm_dynamic_smem);
    const int cg = C / G;
    const int M = N * L;
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(M, e0 + chunk);
    __shared__ T weight;
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        // Per-channel scalars are read once per block and broadcast through shared memory, not
        // loaded by every thread (which would request blockDim copies of the same bytes).
        if (threadIdx.x == 0) {
            weight = w != nullptr ? w[c] : T(1);
        }
        if (table) {
            for (int n = threadIdx.x; n < N; n += blockDim.x) {
                const int s = per_channel ? c : n * G + c / cg;
                tab[2 * n] = mean[s];
                tab[2 * n + 1] = rstd_of(var[s], eps);
            }
        }
        __syncthreads();
        const T wc = weight;
        T a = T(0);
        T bsum = T(0);
        for (int v = e0 / W + threadIdx.x; v < e1 / W; v += blockDim.x) {
            const int e = v * W;
            const int n = e / L;
            const long long idx = (static_cast<long long>(n) * C + c) * L + e % L;
            T mu;
            T rstd;
            if (table) {
                mu = tab[2 * n];
                rstd = tab[2 * n + 1];
            } else {
                const int s = per_channel ? c : n * G + c / cg;
                mu = __ldg(mean + s);
                rstd = rstd_of(__ldg(var + s), eps);
            }
            T qd[W];
            T qx[W];
            jnorm::load_vec<W>(dy + idx, qd);
            jnorm::load_vec<W>(x + idx, qx);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                a += qd[k] * (qx[k] - mu) * rstd;
                bsum += qd[k];
                qd[k] = qd[k] * wc * rstd;
            }
            if (dx != nullptr) {
                jnorm::store_vec<W>(dx + idx, qd);
            }
        }
        if (dw != nullptr || db != nullptr) {
            block_reduce_sum2(a, bsum, scratch);
            bool finalize = gridDim.x == 1;
            if (!finalize) {
                T* p = partial + 2 * (static_cast<long long>(c) * gridDim.x + blockIdx.x);
                if (threadIdx.x == 0) {
                    p[0] = a;
                    p[1] = bsum;
                }
                finalize = jnorm::norm_last_block(ticket + c, gridDim.x, &last_flag);
                if (finalize) {
                    a = T(0);
                    bsum = T(0);
                    const T* pc = partial + 2 * static_cast<long long>(c) * gridDim.x;
                    for (int j = threadIdx.x; j < static_cast<int>(gridDim.x); j += blockDim.x) {
                        a += __ldcg(pc + 2 * j);
                        bsum += __ldcg(pc + 2 * j + 1);
                    }
                    block_reduce_sum2(a, bsum, scratch);
                    if (threadIdx.x == 0) {
                        ticket[c] = 0u;
                    }
                }
            }
            if (finalize && threadIdx.x == 0) {
                if (dw != nullptr) {
                    dw[c] = a;
                }
                if (db != nullptr) {
                    db[c] = bsum;
                }
            }
        }
        __syncthreads();
    }
}

// =============================================================================================
// Column kernels: per-channel statistics when channels are short (L < 32), e.g. BatchNorm1d on
// (N, C) or BatchNorm2d on 3x3 maps. The statistic geometry would give each warp 32 elements of
// one channel spread over 32/L separate runs of L (a 1-element run per lane for L = 1: 32
// sectors per request). Here the tensor is read as [N rows, C·L columns]: threadIdx.x walks a
// tile of `tw` consecutive columns (tw a multiple of L, so a tile holds whole channels) and
// threadIdx.y strides over rows, so every warp request is a contiguous slice of one row. Each
// thread accumulates its column over rows; the partials of a channel (L columns × blockDim.y
// rows) are merged by one thread in a fixed order.
// grid: x = column tiles, y = chunks of rows (several chunks merge by ticket per tile).
// =============================================================================================

// The column tile of this block: columns [j0, j0 + tw), channels [c0, c0 + ct).
struct ColTile {
    int N;
    int C;
    int L;
    int tw;
    int ct;
    int c0;
    int j;      // this thread's column (may be past the end: inactive)
    bool active;

    __device__ ColTile(int n, int c, int l, int tile_cols) : N(n), C(c), L(l), tw(tile_cols) {
        ct = tw / L;
        c0 = blockIdx.x * ct;
        j = blockIdx.x * tw + threadIdx.x;
        active = j < C * L;
    }

    __device__ __forceinline__ long long index(int n) const {
        return static_cast<long long>(n) * C * L + j;
    }

    __device__ __forceinline__ int channel() const {
        return j / L;
    }

    __device__ __forceinline__ int lin() const {
        return threadIdx.y * blockDim.x + threadIdx.x;
    }

    __device__ __forceinline__ int threads() const {
        return blockDim.x * blockDim.y;
    }

    // Channels of this tile that exist.
    __device__ __forceinline__ int channels() const {
        return min(ct, C - c0);
    }
};

// Merges per-thread partials part[ty·tw + tx] (3 values each, Welford or plain sums) of the
// L columns and blockDim.y rows of local channel lc, in (ty, column) order.
template <typename T>
__device__ Welford<T> col_merge(const Welford<T>* part, const ColTile& t, int lc, bool welford) {
    Welford<T> m{T(0), T(0), T(0)};
    for (int ty = 0; ty < static_cast<int>(blockDim.y); ++ty) {
        for (int l = 0; l < t.L; ++l) {
            const Welford<T>& p = part[ty * blockDim.x + lc * t.L + l];
            if (welford) {
                m = jnorm::welford_merge(m, p);
            } else {
                m.n += p.n;
                m.mean += p.mean;
                m.m2 += p.m2;
            }
        }
    }
    return m;
}

// ---------------------------------------------------------------------------------------------
// norm_col_stats: the reduction of the column layout.
//   mode 0: batch moments (Welford) -> mean, var, and the BN running update;
//   mode 1: backward sums Σdy·x̂, Σdy -> dweight, dbias and `sums` (w·Σdy, w·Σdy·x̂) for
//           norm_col_apply; with dx given (constant statistics) it also writes dx = dy·w·rstd.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void col_stats(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ w,
                          T* __restrict__ mean, T* __restrict__ var, T* __restrict__ rmean, T* __restrict__ rvar,
                          T* __restrict__ dx, T* __restrict__ dw, T* __restrict__ db, T* __restrict__ sums,
                          T* __restrict__ partial, unsigned* __restrict__ ticket, int N, int C, int L, int tw,
                          int rows_per_chunk, int mode, T eps, T factor, T bessel, double* __restrict__ counter) {
    __shared__ int last_flag;
    const ColTile t(N, C, L, tw);
    Welford<T>* part = reinterpret_cast<Welford<T>*>(norm_dynamic_smem);
    T* tab = reinterpret_cast<T*>(part + t.threads());  // per channel: mean, rstd, w
    const bool welford = mode == 0;
    if (!welford) {
        for (int lc = t.lin(); lc < t.channels(); lc += t.threads()) {
            const int c = t.c0 + lc;
            tab[3 * lc] = mean[c];
            tab[3 * lc + 1] = rstd_of(var[c], eps);
            tab[3 * lc + 2] = w != nullptr ? w[c] : T(1);
        }
        __syncthreads();
    }
    const int r0 = blockIdx.y * rows_per_chunk;
    const int r1 = min(N, r0 + rows_per_chunk);
    Welford<T> st{T(0), T(0), T(0)};
    if (t.active) {
        const int lc = threadIdx.x / L;
        const T mu = welford ? T(0) : tab[3 * lc];
        const T rstd = welford ? T(0) : tab[3 * lc + 1];
        const T wc = welford ? T(0) : tab[3 * lc + 2];
        for (int n = r0 + threadIdx.y; n < r1; n += blockDim.y) {
            const long long i = t.index(n);
            const T v = __ldg(x + i);
            if (welford) {
                jnorm::welford_push(st, v);
            } else {
                const T d = __ldg(dy + i);
                const T xhat = (v - mu) * rstd;
                st.mean += d;
                st.m2 += d * xhat;
                if (dx != nullptr) {
                    dx[i] = d * wc * rstd;
                }
            }
        }
    }
    part[t.lin()] = st;
    __syncthreads();
    // One thread per channel merges its columns and rows; with one row chunk it finalizes.
    const int lc = t.lin();
    const bool owner = lc < t.channels();
    Welford<T> m{T(0), T(0), T(0)};
    if (owner) {
        m = col_merge(part, t, lc, welford);
    }
    if (gridDim.y > 1) {
        // Partials are [chunk][3][C]: the owners (consecutive channels) store contiguously.
        if (owner) {
            T* p = partial + 3LL * C * blockIdx.y + t.c0 + lc;
            p[0] = m.n;
            p[C] = m.mean;
            p[2 * C] = m.m2;
        }
        __threadfence();
        __syncthreads();
        if (!jnorm::norm_last_block(ticket + blockIdx.x, gridDim.y, &last_flag)) {
            return;
        }
        if (owner) {
            m = Welford<T>{T(0), T(0), T(0)};
            for (int q = 0; q < static_cast<int>(gridDim.y); ++q) {
                const T* p = partial + 3LL * C * q + t.c0 + lc;
                const Welford<T> o{__ldcg(p), __ldcg(p + C), __ldcg(p + 2 * C)};
                if (welford) {
                    m = jnorm::welford_merge(m, o);
                } else {
                    m.mean += o.mean;
                    m.m2 += o.m2;
                }
            }
        }
        if (t.lin() == 0) {
            ticket[blockIdx.x] = 0u;
        }
    }
    if (!owner) {
        return;
    }
    const int c = t.c0 + lc;
    if (welford) {
        const T v = m.m2 / T(static_cast<long long>(N) * L);
        mean[c] = m.mean;
        var[c] = v;
        if (rmean != nullptr) {
            rmean[c] = (T(1) - factor) * rmean[c] + factor * m.mean;
            rvar[c] = (T(1) - factor) * rvar[c] + factor * v * bessel;
            bump_counter(counter, c);
        }
    } else {
        if (dw != nullptr) {
            dw[c] = m.m2;
        }
        if (db != nullptr) {
            db[c] = m.mean;
        }
        if (sums != nullptr) {
            sums[2 * c] = tab[3 * lc + 2] * m.mean;
            sums[2 * c + 1] = tab[3 * lc + 2] * m.m2;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// norm_col_apply: the elementwise pass of the column layout: mode 0 y = (x - mean)·rstd·w + b,
// mode 1 the training dx from norm_col_stats' sums. Per-channel scalars are staged in shared
// memory by one thread per channel.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void col_apply(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ mean,
                          const T* __restrict__ var, const T* __restrict__ w, const T* __restrict__ b,
                          const T* __restrict__ sums, T* __restrict__ out, int N, int C, int L, int tw,
                          int rows_per_chunk, int mode, T eps) {
    const ColTile t(N, C, L, tw);
    T* tab = reinterpret_cast<T*>(norm_dynamic_smem);  // per channel: mean, rstd, w, b or Σg/M, Σg·x̂/M
    const T inv_m = T(1) / T(static_cast<long long>(N) * L);
    for (int lc = t.lin(); lc < t.channels(); lc += t.threads()) {
        const int c = t.c0 + lc;
        tab[4 * lc] = mean[c];
        tab[4 * lc + 1] = rstd_of(var[c], eps);
        tab[4 * lc + 2] = w != nullptr ? w[c] : T(1);
        tab[4 * lc + 3] = mode == 0 ? (b != nullptr ? b[c] : T(0)) : T(0);
    }
    __syncthreads();
    if (!t.active) {
        return;
    }
    const int lc = threadIdx.x / L;
    const T mu = tab[4 * lc];
    const T rstd = tab[4 * lc + 1];
    const T wc = tab[4 * lc + 2];
    const T bc = tab[4 * lc + 3];
    const T mg = mode == 0 ? T(0) : sums[2 * t.channel()] * inv_m;
    const T mgx = mode == 0 ? T(0) : sums[2 * t.channel() + 1] * inv_m;
    const int r0 = blockIdx.y * rows_per_chunk;
    const int r1 = min(N, r0 + rows_per_chunk);
    for (int n = r0 + threadIdx.y; n < r1; n += blockDim.y) {
        const long long i = t.index(n);
        const T xhat = (__ldg(x + i) - mu) * rstd;
        out[i] = mode == 0 ? xhat * wc + bc : rstd * (__ldg(dy + i) * wc - mg - xhat * mgx);
    }
}

// ---------------------------------------------------------------------------------------------
// norm_col_fused: the whole forward (mode 0) or training backward (mode 1) of the column layout
// when a tile's N rows fit in shared memory: one launch, x (or dy and x) read once.
// Forward: cache x, per-channel two-pass mean / variance from the cache, y, BN running update.
// Backward: cache dy and x̂, per-channel Σdy, Σdy·x̂ (-> dweight, dbias), then dx from the cache.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void col_fused(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ w,
                          const T* __restrict__ b, T* __restrict__ mean, T* __restrict__ var, T* __restrict__ rmean,
                          T* __restrict__ rvar, T* __restrict__ out, T* __restrict__ dw, T* __restrict__ db, int N,
                          int C, int L, int tw, int mode, T eps, T factor, T bessel,
                          double* __restrict__ counter) {
    const ColTile t(N, C, L, tw);
    const int nt = t.threads();
    Welford<T>* part = reinterpret_cast<Welford<T>*>(norm_dynamic_smem);
    T* tab = reinterpret_cast<T*>(part + nt);  // per channel: mean, rstd, w, b / Σdy, Σdy·x̂
    T* cache = tab + 4 * t.ct;                  // [row][column] x, or dy then x̂
    const int stride = N * tw;                  // elements of one cached array
    const T inv_m = T(1) / T(static_cast<long long>(N) * L);
    const int lc_own = threadIdx.x / L;
    const int lc = t.lin();
    const bool owner = lc < t.channels();
    if (owner) {
        const int c = t.c0 + lc;
        tab[4 * lc + 2] = w != nullptr ? w[c] : T(1);
        tab[4 * lc + 3] = b != nullptr && mode == 0 ? b[c] : T(0);
        if (mode == 1) {
            tab[4 * lc] = mean[c];
            tab[4 * lc + 1] = rstd_of(var[c], eps);
        }
    }
    __syncthreads();
    // Pass 1: load, cache, per-thread sums (x; or dy and dy·x̂).
    Welford<T> st{T(0), T(0), T(0)};
    if (t.active) {
        const T mu = mode == 1 ? tab[4 * lc_own] : T(0);
        const T rstd = mode == 1 ? tab[4 * lc_own + 1] : T(0);
        for (int n = threadIdx.y; n < N; n += blockDim.y) {
            const long long i = t.index(n);
            const int k = n * tw + threadIdx.x;
            if (mode == 0) {
                const T v = __ldg(x + i);
                cache[k] = v;
                st.mean += v;
            } else {
                const T d = __ldg(dy + i);
                const T xhat = (__ldg(x + i) - mu) * rstd;
                cache[k] = d;
                cache[stride + k] = xhat;
                st.mean += d;
                st.m2 += d * xhat;
            }
        }
    }
    part[lc] = st;
    __syncthreads();
    if (owner) {
        const Welford<T> m = col_merge(part, t, lc, false);
        if (mode == 0) {
            tab[4 * lc] = m.mean * inv_m;
        } else {
            const int c = t.c0 + lc;
            if (dw != nullptr) {
                dw[c] = m.m2;
            }
            if (db != nullptr) {
                db[c] = m.mean;
            }
            // Σg/M and Σg·x̂/M with g = dy·w (w is per channel here).
            tab[4 * lc + 3] = tab[4 * lc + 2] * m.m2 * inv_m;
            tab[4 * lc] = tab[4 * lc + 2] * m.mean * inv_m;
        }
    }
    __syncthreads();
    if (mode == 0) {
        // Pass 2 (forward): centred squares from the cache for the exact variance.
        Welford<T> sq{T(0), T(0), T(0)};
        if (t.active) {
            const T mu = tab[4 * lc_own];
            for (int n = threadIdx.y; n < N; n += blockDim.y) {
                const T d = cache[n * tw + threadIdx.x] - mu;
                sq.mean += d * d;
            }
        }
        part[lc] = sq;
        __syncthreads();
        if (owner) {
            const T v = col_merge(part, t, lc, false).mean * inv_m;
            const int c = t.c0 + lc;
            tab[4 * lc + 1] = rstd_of(v, eps);
            if (mean != nullptr) {
                mean[c] = tab[4 * lc];
                var[c] = v;
            }
            if (rmean != nullptr) {
                rmean[c] = (T(1) - factor) * rmean[c] + factor * tab[4 * lc];
                rvar[c] = (T(1) - factor) * rvar[c] + factor * v * bessel;
                bump_counter(counter, c);
            }
        }
        __syncthreads();
    }
    if (!t.active || out == nullptr) {
        return;
    }
    const T a0 = tab[4 * lc_own];
    const T a1 = tab[4 * lc_own + 1];
    const T wc = tab[4 * lc_own + 2];
    const T a3 = tab[4 * lc_own + 3];
    for (int n = threadIdx.y; n < N; n += blockDim.y) {
        const int k = n * tw + threadIdx.x;
        // forward: a0 = mean, a1 = rstd, a3 = bias; backward: a0 = Σg/M, a3 = Σg·x̂/M.
        const T r = mode == 0 ? (cache[k] - a0) * a1 * wc + a3
                : tab[4 * lc_own + 1] * (cache[k] * wc - a0 - cache[stride + k] * a3);
        out[t.index(n)] = r;
    }
}

}  // namespace

// ---- entry points ------------------------------------------------------------------------------
// `vec` selects the 16-byte path; the host sets it only when every run starts on a 16-byte
// boundary (run_len, run_stride, stat_stride and chunk multiples of the vector width).

#define NORM_GEOM const NormGeom g{stats, groups, cg, L, run_len, run_stride, stat_stride, M}
#define NORM_GEOM_PARAMS int stats, int groups, int cg, int L, int run_len, int run_stride, int stat_stride, int M
#define NORM_DISPATCH(T, fn, ...)                                   \
    if (vec) {                                                   \
        fn<T, NormVec<T>::kWidth>(__VA_ARGS__);                  \
    } else {                                                     \
        fn<T, 1>(__VA_ARGS__);                                   \
    }

#define NORM_ENTRIES(T, SUF)                                                                                    \
    extern "C" __global__ void norm_fwd_fused_##SUF(const T* x, const T* w, const T* b, T* y, T* mean, T* var,  \
                                                    T* rmean, T* rvar, NORM_GEOM_PARAMS, int vec, T eps,        \
                                                    T factor, T bessel, double* counter) {                      \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, fwd_fused, x, w, b, y, mean, var, rmean, rvar, g, eps, factor, bessel, counter)           \
    }                                                                                                           \
    extern "C" __global__ void norm_fwd_est_##SUF(const T* x, const T* w, const T* b, T* y, T* mean, T* var,    \
                                                  T* est_mean, T* est_var, NORM_GEOM_PARAMS, int vec, T eps,    \
                                                  double rate) {                                                \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, fwd_est, x, w, b, y, mean, var, est_mean, est_var, g, eps, rate)                         \
    }                                                                                                           \
    extern "C" __global__ void norm_fwd_renorm_##SUF(const T* x, const T* gamma, const T* beta, T* y, T* mean,  \
                                                     T* var, T* moving_mean, T* moving_std, T* r, T* d,         \
                                                     T* scale, NORM_GEOM_PARAMS, int vec, double eps,           \
                                                     double rmax, double dmax, double momentum) {               \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, fwd_renorm, x, gamma, beta, y, mean, var, moving_mean, moving_std, r, d, scale, g, eps,  \
                      rmax, dmax, momentum)                                                                     \
    }                                                                                                           \
    extern "C" __global__ void norm_moments_##SUF(const T* x, T* mean, T* var, T* rmean, T* rvar, T* partial,   \
                                                  unsigned* ticket, NORM_GEOM_PARAMS, int chunk, int vec,       \
                                                  T factor, T bessel, double* counter) {                        \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, moments, x, mean, var, rmean, rvar, partial, ticket, g, chunk, factor, bessel, counter)   \
    }                                                                                                           \
    extern "C" __global__ void norm_normalize_##SUF(const T* x, const T* mean, const T* var, const T* w,        \
                                                    const T* b, T* y, NORM_GEOM_PARAMS, int chunk, int vec,     \
                                                    T eps, T* rmean, T* rvar, int channels,                     \
                                                    int instances, T factor, T bessel) {                        \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, normalize, x, mean, var, w, b, y, g, chunk, eps, rmean, rvar, channels,          \
                      instances, factor, bessel)                                                                \
    }                                                                                                           \
    extern "C" __global__ void norm_bwd_fused_##SUF(const T* dy, const T* x, const T* mean, const T* var,       \
                                                    const T* w, T* dx, T* dw, T* db, T* partial,                \
                                                    unsigned* ticket, NORM_GEOM_PARAMS, int vec, T eps,         \
                                                    int train) {                                                \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, bwd_fused, dy, x, mean, var, w, dx, dw, db, partial, ticket, g, eps, train)               \
    }                                                                                                           \
    extern "C" __global__ void norm_bwd_sums_##SUF(const T* dy, const T* x, const T* mean, const T* var,        \
                                                   const T* w, T* sums, T* dw, T* db, T* stat_partial,          \
                                                   T* ch_partial, unsigned* ticket, NORM_GEOM_PARAMS, int chunk, \
                                                   int vec, T eps) {                                            \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, bwd_sums, dy, x, mean, var, w, sums, dw, db, stat_partial, ch_partial, ticket, g, chunk, \
                      eps)                                                                                      \
    }                                                                                                           \
    extern "C" __global__ void norm_bwd_dx_##SUF(const T* dy, const T* x, const T* mean, const T* var,          \
                                                 const T* w, const T* sums, T* dx, T* dw, T* db,                \
                                                 const T* ch_partial, NORM_GEOM_PARAMS, int chunk, int vec,     \
                                                 T eps, int train) {                                            \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, bwd_dx, dy, x, mean, var, w, sums, dx, dw, db, ch_partial, g, chunk, eps, train)       \
    }                                                                                                           \
    extern "C" __global__ void norm_bwd_channel_##SUF(const T* dy, const T* x, const T* mean, const T* var,     \
                                                      const T* w, T* dx, T* dw, T* db, T* partial,              \
                                                      unsigned* ticket, int N, int C, int L, int G,             \
                                                      int per_channel, int chunk, int table, int vec, T eps) {  \
        NORM_DISPATCH(T, bwd_channel, dy, x, mean, var, w, dx, dw, db, partial, ticket, N, C, L, G, per_channel,   \
                      chunk, table, eps)                                                                        \
    }                                                                                                           \
    extern "C" __global__ void norm_col_stats_##SUF(const T* x, const T* dy, const T* w, T* mean, T* var,       \
                                                    T* rmean, T* rvar, T* dx, T* dw, T* db, T* sums,            \
                                                    T* partial, unsigned* ticket, int N, int C, int L, int tw,  \
                                                    int rows_per_chunk, int mode, T eps, T factor, T bessel,    \
                                                    double* counter) {                                          \
        col_stats(x, dy, w, mean, var, rmean, rvar, dx, dw, db, sums, partial, ticket, N, C, L, tw,             \
                  rows_per_chunk, mode, eps, factor, bessel, counter);                                          \
    }                                                                                                           \
    extern "C" __global__ void norm_col_apply_##SUF(const T* x, const T* dy, const T* mean, const T* var,       \
                                                    const T* w, const T* b, const T* sums, T* out, int N,       \
                                                    int C, int L, int tw, int rows_per_chunk, int mode, T eps) { \
        col_apply(x, dy, mean, var, w, b, sums, out, N, C, L, tw, rows_per_chunk, mode, eps);                   \
    }                                                                                                           \
    extern "C" __global__ void norm_col_fused_##SUF(const T* x, const T* dy, const T* w, const T* b, T* mean,   \
                                                    T* var, T* rmean, T* rvar, T* out, T* dw, T* db, int N,     \
                                                    int C, int L, int tw, int mode, T eps, T factor,            \
                                                    T bessel, double* counter) {                                \
        col_fused(x, dy, w, b, mean, var, rmean, rvar, out, dw, db, N, C, L, tw, mode, eps, factor, bessel,    \
                  counter);                                                                                     \
    }                                                                                                           \
    extern "C" __global__ void norm_update_running_##SUF(const T* bmean, const T* bvar, T* rmean, T* rvar,      \
                                                         int channels, int instances, T factor, T bessel) {     \
        running_update(bmean, bvar, rmean, rvar, channels, instances, factor, bessel,                           \
                       static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x),                                 \
                       static_cast<int>(gridDim.x * blockDim.x));                                               \
    }

NORM_ENTRIES(float, f32)
NORM_ENTRIES(double, f64)
