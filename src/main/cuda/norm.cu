// Normalization kernels shared by BatchNorm, GroupNorm, LayerNorm and InstanceNorm (and through
// them the BN / GN / IN parts of Batch Renorm, Batch-Channel Norm, Switchable Norm and UBN).
// The Java side is io.jnorm.backend.cuda.CudaNorm (planning) and CudaNormPtx (typed launchers);
// the CPU reference with the same names is io.jnorm.backend.cpu.CpuNorm.
//
// Every kernel works on a "statistic geometry" (NormGeom in common/norm_stats.cuh): the M
// elements that share one mean / variance are runs of contiguous elements, which describes the
// per-channel statistics of BN (N runs of L) and the per-(n, group) statistics of GN, IN and LN
// (one run of (C/G)·L) with the same index formula.
//
// Two regimes, chosen on the host by whether one statistic fits in shared memory:
//   fits on chip   norm_fwd_fused / norm_bwd_fused: one block owns whole statistics, caches them
//                  in shared memory and reads global memory once: forward = read x, write y
//                  (2 tensor transfers, 1 launch); backward = read dy and x, write dx (3, 1).
//   does not fit   several blocks per statistic with a last-block-done ticket:
//                  forward  norm_moments + norm_normalize               (3 transfers, 2 launches)
//                  backward norm_bwd_sums + norm_bwd_dx                 (5 transfers, 2 launches)
//                           (+ norm_bwd_channel for per-group dweight / dbias)
// Eval-mode backward (statistics are constants) is norm_bwd_channel alone, which writes dx and
// reduces dweight / dbias in one pass (3 transfers). norm_update_running is the standalone
// running-statistics update (InstanceNorm's average over instances).
//
// Arithmetic is in T (float accumulates in float, as PyTorch does); rstd = 1/sqrt(var + eps) is
// computed with IEEE sqrt and division in every kernel, so forward and backward agree.
#include "common/norm_stats.cuh"

using jnorm::block_reduce_sum;
using jnorm::block_reduce_sum2;
using jnorm::NormGeom;
using jnorm::NormVec;
using jnorm::NormWelford;

// One dynamic shared-memory array for every instantiation (the element type differs per
// kernel, so it is declared as bytes and cast).
extern __shared__ __align__(16) unsigned char norm_dynamic_smem[];

namespace {

template <typename T>
__device__ __forceinline__ T rstd_of(T var, T eps) {
    return T(1) / sqrt(var + eps);
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

// ---------------------------------------------------------------------------------------------
// norm_fwd_fused: moments + normalize + affine (+ BN running update) in one launch.
// Parallelizes over statistics (grid.y; a block loops s += gridDim.y, and gridDim.y is a
// multiple of `groups`, so all statistics of a block share the same channels and the block
// loads their weight / bias once). Within a statistic, threads stride over 16-byte vectors
// that are copied into shared memory on the way in; the exact two-pass variance and the output
// then come from shared memory, so x is read from global memory exactly once.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void fwd_fused(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                          T* __restrict__ y, T* __restrict__ mean_out, T* __restrict__ var_out,
                          T* __restrict__ rmean, T* __restrict__ rvar, const NormGeom g, T eps, T factor,
                          T bessel) {
    __shared__ T scratch[32];
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
        const T rstd = rstd_of(var, eps);
        for (int v = threadIdx.x; v < nv; v += blockDim.x) {
            const int e = v * W;
            const int r = e % g.run_len;
            T q[W];
            jnorm::load_vec_shared<W>(cache + e, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                const int cl = (r + k) / g.L;
                q[k] = (q[k] - mu) * rstd * wt[cl] + bt[cl];
            }
            jnorm::store_vec<W>(y + g.index(s, e), q);
        }
        if (threadIdx.x == 0) {
            if (mean_out != nullptr) {
                mean_out[s] = mu;
                var_out[s] = var;
            }
            if (rmean != nullptr) {
                rmean[s] = (T(1) - factor) * rmean[s] + factor * mu;
                rvar[s] = (T(1) - factor) * rvar[s] + factor * var * bessel;
            }
        }
    }
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
                        unsigned* __restrict__ ticket, const NormGeom g, int chunk, T factor, T bessel) {
    __shared__ NormWelford<T> scratch[32];
    __shared__ int last_flag;
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        NormWelford<T> st{T(0), T(0), T(0)};
        for (int v = e0 / W + threadIdx.x; v < e1 / W; v += blockDim.x) {
            T q[W];
            jnorm::load_vec<W>(x + g.index(s, v * W), q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                jnorm::welford_add(st, q[k]);
            }
        }
        st = jnorm::block_welford_all(st, scratch);
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
                NormWelford<T> m{T(0), T(0), T(0)};
                const T* ps = partial + 3 * static_cast<long long>(s) * gridDim.x;
                for (int j = threadIdx.x; j < static_cast<int>(gridDim.x); j += blockDim.x) {
                    m = jnorm::welford_combine(m, NormWelford<T>{__ldcg(ps + 3 * j), __ldcg(ps + 3 * j + 1),
                                                                 __ldcg(ps + 3 * j + 2)});
                }
                st = jnorm::block_welford_all(m, scratch);
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
                const int lane = threadIdx.x % jnorm::kWarpSize;
                const int warp = threadIdx.x / jnorm::kWarpSize;
                const int warps = blockDim.x / jnorm::kWarpSize;
                if (g.L >= jnorm::kWarpSize) {
                    for (int cl = warp; cl < g.cg; cl += warps) {
                        T a = T(0);
                        T bsum = T(0);
                        for (int l = lane; l < g.L; l += jnorm::kWarpSize) {
                            a += dyc[cl * g.L + l] * xh[cl * g.L + l];
                            bsum += dyc[cl * g.L + l];
                        }
                        a = jnorm::warp_reduce_sum(a);
                        bsum = jnorm::warp_reduce_sum(bsum);
                        if (lane == 0) {
                            dwa[cl] += a;
                            dba[cl] += bsum;
                        }
                    }
                } else {
                    for (int cl = threadIdx.x; cl < g.cg; cl += blockDim.x) {
                        T a = T(0);
                        T bsum = T(0);
                        for (int l = 0; l < g.L; ++l) {
                            a += dyc[cl * g.L + l] * xh[cl * g.L + l];
                            bsum += dyc[cl * g.L + l];
                        }
                        dwa[cl] += a;
                        dba[cl] += bsum;
                    }
                }
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

// ---------------------------------------------------------------------------------------------
// norm_bwd_sums: streaming per-statistic Σg and Σg·x̂ (g = dy·w_c) for statistics that do not
// fit on chip, over (chunk = grid.x, statistic = grid.y) with the same ticket scheme as
// norm_moments. For one channel per statistic (cg = 1) it sums dy and dy·x̂ and applies w at the
// end; when dw / db are given (per-channel layouts: statistic = channel) it also writes them.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void bwd_sums(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,
                         const T* __restrict__ var, const T* __restrict__ w, T* __restrict__ sums,
                         T* __restrict__ dw, T* __restrict__ db, T* __restrict__ partial,
                         unsigned* __restrict__ ticket, const NormGeom g, int chunk, T eps) {
    __shared__ T scratch[64];
    __shared__ T stat[2];
    __shared__ int last_flag;
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    // With one channel per statistic w is applied to the totals (dy and dy·x̂ are summed
    // unweighted, which also gives dweight / dbias); otherwise the chunk's weights are staged.
    T* wt = reinterpret_cast<T*>(norm_dynamic_smem);
    const int cl0 = g.cg == 1 ? 0
            : stage_channels<T>(w, nullptr, wt, nullptr, g, g.first_channel(blockIdx.y), e0, e1);
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
                const T gk = g.cg == 1 ? qd[k] : qd[k] * wt[(r + k) / g.L - cl0];
                a += gk;
                bsum += gk * (qx[k] - mu) * rstd;
            }
        }
        block_reduce_sum2(a, bsum, scratch);
        bool finalize = gridDim.x == 1;
        if (!finalize) {
            T* p = partial + 2 * (static_cast<long long>(s) * gridDim.x + blockIdx.x);
            if (threadIdx.x == 0) {
                p[0] = a;
                p[1] = bsum;
            }
            finalize = jnorm::norm_last_block(ticket + s, gridDim.x, &last_flag);
            if (finalize) {
                a = T(0);
                bsum = T(0);
                const T* ps = partial + 2 * static_cast<long long>(s) * gridDim.x;
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
            const T wc = g.cg == 1 && w != nullptr ? w[cs] : T(1);
            sums[2 * s] = a * wc;
            sums[2 * s + 1] = bsum * wc;
            if (dw != nullptr) {
                dw[s] = bsum;
            }
            if (db != nullptr) {
                db[s] = a;
            }
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// norm_bwd_dx: dx = rstd·(g - Σg/M - x̂·Σg·x̂/M) over (chunk, statistic), the statistic's four
// scalars broadcast from shared memory; the chunk's weights staged like norm_normalize.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void bwd_dx(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ mean,
                       const T* __restrict__ var, const T* __restrict__ w, const T* __restrict__ sums,
                       T* __restrict__ dx, const NormGeom g, int chunk, T eps) {
    __shared__ T stat[4];
    const int e0 = blockIdx.x * chunk;
    const int e1 = min(g.M, e0 + chunk);
    T* wt = reinterpret_cast<T*>(norm_dynamic_smem);
    const int cl0 = stage_channels<T>(w, nullptr, wt, nullptr, g, g.first_channel(blockIdx.y), e0, e1);
    const T inv_m = T(1) / T(g.M);
    for (int s = blockIdx.y; s < g.stats; s += gridDim.y) {
        if (threadIdx.x == 0) {
            stat[0] = mean[s];
            stat[1] = rstd_of(var[s], eps);
            stat[2] = sums[2 * s] * inv_m;
            stat[3] = sums[2 * s + 1] * inv_m;
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
                qd[k] = rstd * (qd[k] * wt[(r + k) / g.L - cl0] - mg - xhat * mgx);
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
    for (int c = blockIdx.y; c < C; c += gridDim.y) {
        if (table) {
            for (int n = threadIdx.x; n < N; n += blockDim.x) {
                const int s = per_channel ? c : n * G + c / cg;
                tab[2 * n] = mean[s];
                tab[2 * n + 1] = rstd_of(var[s], eps);
            }
            __syncthreads();
        }
        const T wc = w != nullptr ? w[c] : T(1);
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
                                                    T factor, T bessel) {                                       \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, fwd_fused, x, w, b, y, mean, var, rmean, rvar, g, eps, factor, bessel)                    \
    }                                                                                                           \
    extern "C" __global__ void norm_moments_##SUF(const T* x, T* mean, T* var, T* rmean, T* rvar, T* partial,   \
                                                  unsigned* ticket, NORM_GEOM_PARAMS, int chunk, int vec,       \
                                                  T factor, T bessel) {                                         \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, moments, x, mean, var, rmean, rvar, partial, ticket, g, chunk, factor, bessel)            \
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
                                                   const T* w, T* sums, T* dw, T* db, T* partial,               \
                                                   unsigned* ticket, NORM_GEOM_PARAMS, int chunk, int vec,      \
                                                   T eps) {                                                     \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, bwd_sums, dy, x, mean, var, w, sums, dw, db, partial, ticket, g, chunk, eps)              \
    }                                                                                                           \
    extern "C" __global__ void norm_bwd_dx_##SUF(const T* dy, const T* x, const T* mean, const T* var,          \
                                                 const T* w, const T* sums, T* dx, NORM_GEOM_PARAMS, int chunk, \
                                                 int vec, T eps) {                                              \
        NORM_GEOM;                                                                                              \
        NORM_DISPATCH(T, bwd_dx, dy, x, mean, var, w, sums, dx, g, chunk, eps)                             \
    }                                                                                                           \
    extern "C" __global__ void norm_bwd_channel_##SUF(const T* dy, const T* x, const T* mean, const T* var,     \
                                                      const T* w, T* dx, T* dw, T* db, T* partial,              \
                                                      unsigned* ticket, int N, int C, int L, int G,             \
                                                      int per_channel, int chunk, int table, int vec, T eps) {  \
        NORM_DISPATCH(T, bwd_channel, dy, x, mean, var, w, dx, dw, db, partial, ticket, N, C, L, G, per_channel,   \
                      chunk, table, eps)                                                                        \
    }                                                                                                           \
    extern "C" __global__ void norm_update_running_##SUF(const T* bmean, const T* bvar, T* rmean, T* rvar,      \
                                                         int channels, int instances, T factor, T bessel) {     \
        running_update(bmean, bvar, rmean, rvar, channels, instances, factor, bessel,                           \
                       static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x),                                 \
                       static_cast<int>(gridDim.x * blockDim.x));                                               \
    }

NORM_ENTRIES(float, f32)
NORM_ENTRIES(double, f64)
