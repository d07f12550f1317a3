// Switchable Normalization kernels (spec-ws-bcn-sn.md §3, the official SwitchNorm2d): IN
// statistics with the unbiased variance, LN and BN statistics derived from them, two softmax
// mixes over (IN, LN[, BN]), normalize + per-channel affine, and the closed-form backward of
// §3.6. The Java side is io.jnorm.backend.cuda.CudaSwitchableNorm (typed
// launchers mirror these entries); the CPU reference with the same names is CpuSwitchableNorm.
//
// A forward is two launches and three tensor transfers (x read by sn_statistics, x read and y
// written by sn_forward), the budget of one norm plus nothing: SN is "three norms" only in its
// statistics, and those all come out of ONE pass over x:
//   sn_statistics   one block per instance (n, c) reduces its L values (Welford, x read once);
//                   the last block to finish (a ticket, one atomic per block) derives LN's per-n
//                   and BN's per-c statistics from the N·C instance statistics, and in
//                   training moves the running BN statistics (no launch of their own).
//   sn_forward      one block per instance: thread 0 takes both softmaxes and the mixed mean /
//                   rstd (in double: a few flops per instance), the block normalizes the row.
// Backward is four launches over five tensor transfers (x and dy read twice, dx written once):
//   sn_backward_reduce  one block per instance: a, b (the gradients into the mixed mean and
//                       variance); the last block (ticket) sums dγ, dβ per channel over n in
//                       sample order (deterministic, no atomics).
//   sn_backward_logits  one block: the six dot products u_k, u'_k and the softmax backward.
//   sn_backward_sums    N + C blocks: Σ_c a, Σ_c b per sample and Σ_n a, Σ_n b per channel, the
//                       LN and BN couplings every dx element needs (read once here, not N + C
//                       times per instance block).
//   sn_backward_input   one block per instance: thread 0 folds everything into three
//                       coefficients, dx = k1·dy + k0 + k2·(x − mean_in), one pass.
//
// Precision: element work and the L-long reductions run in T (float accumulates in float, as
// PyTorch does); everything per instance or per channel (softmax, mixing, the derived LN / BN
// statistics, the logits' dot products) runs in double, which costs nothing at those sizes and
// keeps the derived variances var_in + mean² − mean_ln² free of float cancellation.
#include "common/norm_stats.cuh"

using jnorm::block_reduce_sum2;
using jnorm::Welford;

namespace {

// softmax of 2 or 3 logits, largest subtracted so big logits cannot overflow.
template <typename T>
__device__ __forceinline__ void softmax3(const T* __restrict__ logits, int terms, double (&w)[3]) {
    double mx = logits[0];
#pragma unroll
    for (int k = 1; k < 3; ++k) {
        if (k < terms) {
            mx = fmax(mx, static_cast<double>(logits[k]));
        }
    }
    double sum = 0.0;
#pragma unroll
    for (int k = 0; k < 3; ++k) {
        w[k] = k < terms ? exp(static_cast<double>(logits[k]) - mx) : 0.0;
        sum += w[k];
    }
#pragma unroll
    for (int k = 0; k < 3; ++k) {
        w[k] /= sum;
    }
}

// The official moving average R·k + batch·(1 − k) with each product and the sum rounded to T,
// as the separate multiply / add ops of the CPU reference round them: products of two floats are
// exact in double, and the _rn intrinsics keep the compiler from contracting into an FMA.
template <typename T>
__device__ __forceinline__ T keep_blend(T running, T batch, T keep, T one_minus_keep) {
    const double a = static_cast<double>(static_cast<T>(__dmul_rn(running, keep)));
    const double b = static_cast<double>(static_cast<T>(__dmul_rn(batch, one_minus_keep)));
    return static_cast<T>(__dadd_rn(a, b));
}

// ---------------------------------------------------------------------------------------------
// sn_statistics: IN mean / unbiased variance per (n, c), then LN (per n) and BN (per c) derived
// from them by the grid's last block. Parallelizes over instances (grid.x, blocks loop), threads
// stride over the row in 16-byte vectors with a per-thread Welford state merged by shuffles.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void statistics(const T* __restrict__ x, int N, int C, int L, T* __restrict__ mean_in,
                           T* __restrict__ var_in, T* __restrict__ mean_ln, T* __restrict__ var_ln,
                           T* __restrict__ mean_bn, T* __restrict__ var_bn, unsigned* __restrict__ ticket,
                           T* __restrict__ run_mean, T* __restrict__ run_var, T keep, T one_minus_keep) {
    __shared__ Welford<T> scratch[32];
    __shared__ int last_flag;
    const int instances = N * C;
    for (int i = blockIdx.x; i < instances; i += gridDim.x) {
        const T* row = x + static_cast<long long>(i) * L;
        Welford<T> st{T(0), T(0), T(0)};
        for (int v = threadIdx.x; v < L / W; v += blockDim.x) {
            T q[W];
            jnorm::load_vec<W>(row + v * W, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                jnorm::welford_push(st, q[k]);
            }
        }
        st = jnorm::block_welford(st, scratch);
        if (threadIdx.x == 0) {
            mean_in[i] = st.mean;
            var_in[i] = st.m2 / T(L - 1);
        }
    }
    if (!jnorm::norm_last_block(ticket, gridDim.x, &last_flag)) {
        return;
    }
    // Every instance statistic is published; the derived ones read them through L2 (__ldcg),
    // since this block's L1 may hold nothing or stale lines of other blocks' writes.
    for (int n = threadIdx.x; n < N; n += blockDim.x) {
        double m = 0.0;
        double t = 0.0;
        for (int c = 0; c < C; ++c) {
            const double mi = __ldcg(mean_in + n * C + c);
            m += mi;
            t += static_cast<double>(__ldcg(var_in + n * C + c)) + mi * mi;
        }
        m /= C;
        mean_ln[n] = static_cast<T>(m);
        var_ln[n] = static_cast<T>(t / C - m * m);
    }
    if (mean_bn != nullptr) {
        for (int c = threadIdx.x; c < C; c += blockDim.x) {
            double m = 0.0;
            double t = 0.0;
            for (int n = 0; n < N; ++n) {
                const double mi = __ldcg(mean_in + n * C + c);
                m += mi;
                t += static_cast<double>(__ldcg(var_in + n * C + c)) + mi * mi;
            }
            m /= N;
            const T mb = static_cast<T>(m);
            const T vb = static_cast<T>(t / N - m * m);
            mean_bn[c] = mb;
            var_bn[c] = vb;
            if (run_mean != nullptr) {
                run_mean[c] = keep_blend(run_mean[c], mb, keep, one_minus_keep);
                run_var[c] = keep_blend(run_var[c], vb, keep, one_minus_keep);
            }
        }
    }
    if (threadIdx.x == 0) {
        *ticket = 0u;
    }
}

// ---------------------------------------------------------------------------------------------
// sn_forward: y = γ_c·(x − mean)·rstd + β_c with the mixed mean / variance of the instance.
// Parallelizes over instances like sn_statistics; the instance's four scalars are formed once by
// thread 0 and broadcast through shared memory, so global traffic is x in, y out.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void forward(const T* __restrict__ x, const T* __restrict__ mean_in, const T* __restrict__ var_in,
                        const T* __restrict__ mean_ln, const T* __restrict__ var_ln, const T* __restrict__ mean_bn,
                        const T* __restrict__ var_bn, const T* __restrict__ mean_logits,
                        const T* __restrict__ var_logits, int terms, const T* __restrict__ gamma,
                        const T* __restrict__ beta, T eps, int N, int C, int L, T* __restrict__ y,
                        T* __restrict__ mean_out, T* __restrict__ rstd_out) {
    __shared__ T coef[3];
    double w[3];
    double v[3];
    if (threadIdx.x == 0) {
        softmax3(mean_logits, terms, w);
        softmax3(var_logits, terms, v);
    }
    const int instances = N * C;
    for (int i = blockIdx.x; i < instances; i += gridDim.x) {
        if (threadIdx.x == 0) {
            const int n = i / C;
            const int c = i - n * C;
            double m = w[0] * mean_in[i] + w[1] * mean_ln[n];
            double s2 = v[0] * var_in[i] + v[1] * var_ln[n];
            if (terms == 3) {
                m += w[2] * mean_bn[c];
                s2 += v[2] * var_bn[c];
            }
            const T mt = static_cast<T>(m);
            const T rt = static_cast<T>(1.0 / sqrt(s2 + static_cast<double>(eps)));
            mean_out[i] = mt;
            rstd_out[i] = rt;
            coef[0] = mt;
            coef[1] = rt * (gamma != nullptr ? gamma[c] : T(1));
            coef[2] = beta != nullptr ? beta[c] : T(0);
        }
        __syncthreads();
        const T m = coef[0];
        const T scale = coef[1];
        const T shift = coef[2];
        const long long base = static_cast<long long>(i) * L;
        for (int e = threadIdx.x; e < L / W; e += blockDim.x) {
            T q[W];
            jnorm::load_vec<W>(x + base + e * W, q);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                q[k] = (q[k] - m) * scale + shift;
            }
            jnorm::store_vec<W>(y + base + e * W, q);
        }
        __syncthreads();
    }
}

// ---------------------------------------------------------------------------------------------
// sn_backward_reduce: a = −rstd·γ·Σ dy, b = −rstd²/2·γ·Σ dy·x̂ per instance, dγ = Σ dy·x̂ and
// dβ = Σ dy per channel. Parallelizes over instances like the forward (one two-value block
// reduction per row); each row's two sums also go to `row_sums`, and the grid's last block
// (ticket) adds them over n per channel in sample order, so dγ and dβ are deterministic without
// atomics and a block never walks a whole channel alone.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void backward_reduce(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ mean,
                                const T* __restrict__ rstd, const T* __restrict__ gamma, int N, int C, int L,
                                T* __restrict__ a, T* __restrict__ b, T* __restrict__ dgamma,
                                T* __restrict__ dbeta, T* __restrict__ row_sums, unsigned* __restrict__ ticket) {
    __shared__ T scratch[64];
    __shared__ T stat[3];
    __shared__ int last_flag;
    for (int i = blockIdx.x; i < N * C; i += gridDim.x) {
        if (threadIdx.x == 0) {
            stat[0] = mean[i];
            stat[1] = rstd[i];
            stat[2] = gamma != nullptr ? gamma[i % C] : T(1);
        }
        __syncthreads();
        const T m = stat[0];
        const T r = stat[1];
        const long long base = static_cast<long long>(i) * L;
        T sdy = T(0);
        T sdyx = T(0);
        for (int e = threadIdx.x; e < L / W; e += blockDim.x) {
            T qd[W];
            T qx[W];
            jnorm::load_vec<W>(dy + base + e * W, qd);
            jnorm::load_vec<W>(x + base + e * W, qx);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                sdy += qd[k];
                sdyx += qd[k] * ((qx[k] - m) * r);
            }
        }
        // The trailing barrier also orders this row's stat reads before the next row's writes.
        block_reduce_sum2(sdy, sdyx, scratch);
        if (threadIdx.x == 0) {
            const T g = stat[2];
            a[i] = -r * g * sdy;
            b[i] = T(-0.5) * r * r * g * sdyx;
            row_sums[2 * i] = sdy;
            row_sums[2 * i + 1] = sdyx;
        }
    }
    if (dgamma == nullptr && dbeta == nullptr) {
        return;
    }
    if (!jnorm::norm_last_block(ticket, gridDim.x, &last_flag)) {
        return;
    }
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        double db = 0.0;
        double dg = 0.0;
        for (int n = 0; n < N; ++n) {
            db += __ldcg(row_sums + 2 * (n * C + c));
            dg += __ldcg(row_sums + 2 * (n * C + c) + 1);
        }
        if (dgamma != nullptr) {
            dgamma[c] = static_cast<T>(dg);
        }
        if (dbeta != nullptr) {
            dbeta[c] = static_cast<T>(db);
        }
    }
    if (threadIdx.x == 0) {
        *ticket = 0u;
    }
}

// The statistic of term k (0 IN, 1 LN, 2 BN) at instance i = n·C + c.
template <typename T>
__device__ __forceinline__ double term(int k, const T* in, const T* ln, const T* bn, int i, int n, int c) {
    return k == 0 ? static_cast<double>(in[i]) : k == 1 ? static_cast<double>(ln[n]) : static_cast<double>(bn[c]);
}

// ---------------------------------------------------------------------------------------------
// sn_backward_logits: u_k = Σ a·mean_k, u'_k = Σ b·var_k over the N·C instances, then
// dλ_j = w_j·(u_j − Σ_k w_k·u_k) for both logit vectors. One block (N·C values, double sums).
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void backward_logits(const T* __restrict__ a, const T* __restrict__ b, const T* __restrict__ mean_in,
                                const T* __restrict__ var_in, const T* __restrict__ mean_ln,
                                const T* __restrict__ var_ln, const T* __restrict__ mean_bn,
                                const T* __restrict__ var_bn, const T* __restrict__ mean_logits,
                                const T* __restrict__ var_logits, int terms, int N, int C,
                                T* __restrict__ dmean_logits, T* __restrict__ dvar_logits) {
    __shared__ double scratch[64];
    double u[3] = {0.0, 0.0, 0.0};
    double uv[3] = {0.0, 0.0, 0.0};
    for (int i = threadIdx.x; i < N * C; i += blockDim.x) {
        const int n = i / C;
        const int c = i - n * C;
        const double ai = a[i];
        const double bi = b[i];
#pragma unroll
        for (int k = 0; k < 3; ++k) {
            if (k < terms) {
                u[k] += ai * term(k, mean_in, mean_ln, mean_bn, i, n, c);
                uv[k] += bi * term(k, var_in, var_ln, var_bn, i, n, c);
            }
        }
    }
#pragma unroll
    for (int k = 0; k < 3; ++k) {
        block_reduce_sum2(u[k], uv[k], scratch);
    }
    if (threadIdx.x != 0) {
        return;
    }
    double w[3];
    double v[3];
    softmax3(mean_logits, terms, w);
    softmax3(var_logits, terms, v);
    // Unrolled over the 3 slots (softmax3 zeroes w, v past `terms`) so the arrays stay in
    // registers: a loop bounded by the runtime `terms` would index them dynamically (stack).
    double dot = 0.0;
    double dotv = 0.0;
#pragma unroll
    for (int k = 0; k < 3; ++k) {
        dot += w[k] * u[k];
        dotv += v[k] * uv[k];
    }
#pragma unroll
    for (int j = 0; j < 3; ++j) {
        if (j >= terms) {
            break;
        }
        if (dmean_logits != nullptr) {
            dmean_logits[j] = static_cast<T>(w[j] * (u[j] - dot));
        }
        if (dvar_logits != nullptr) {
            dvar_logits[j] = static_cast<T>(v[j] * (uv[j] - dotv));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// sn_backward_sums: sums[0..N) = Σ_c a, [N..2N) = Σ_c b, [2N..2N+C) = Σ_n a, [2N+C..) = Σ_n b.
// Block j < N owns sample j, block N + c owns channel c; each is one short double reduction.
// ---------------------------------------------------------------------------------------------
template <typename T>
__device__ void backward_sums(const T* __restrict__ a, const T* __restrict__ b, int N, int C,
                              double* __restrict__ sums) {
    __shared__ double scratch[64];
    for (int j = blockIdx.x; j < N + C; j += gridDim.x) {
        const bool row = j < N;
        const int count = row ? C : N;
        double sa = 0.0;
        double sb = 0.0;
        for (int q = threadIdx.x; q < count; q += blockDim.x) {
            const int i = row ? j * C + q : q * C + (j - N);
            sa += a[i];
            sb += b[i];
        }
        block_reduce_sum2(sa, sb, scratch);
        if (threadIdx.x == 0) {
            if (row) {
                sums[j] = sa;
                sums[N + j] = sb;
            } else {
                sums[2 * N + (j - N)] = sa;
                sums[2 * N + C + (j - N)] = sb;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// sn_backward_input: dx = γ·dy·rstd + Gμ/L + Gσ·2(x − mean_in)/(L − 1) (spec §3.6), with
//   Gμ = w0·a + (w1/C)·Σ_c a + (2/C)(mean_in − mean_ln)·v1·Σ_c b
//        [+ (w2/N)·Σ_n a + (2/N)(mean_in − mean_bn)·v2·Σ_n b   when BN came from this batch]
//   Gσ = v0·b + (v1/C)·Σ_c b [+ (v2/N)·Σ_n b].
// Parallelizes over instances; thread 0 folds the instance's terms into k1, k0, k2 (double),
// the block applies dx = k1·dy + k0 + k2·(x − mean_in): dy and x in, dx out.
// ---------------------------------------------------------------------------------------------
template <typename T, int W>
__device__ void backward_input(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ a,
                               const T* __restrict__ b, const T* __restrict__ mean_in,
                               const T* __restrict__ mean_ln, const T* __restrict__ mean_bn,
                               const T* __restrict__ rstd, const T* __restrict__ gamma,
                               const T* __restrict__ mean_logits, const T* __restrict__ var_logits, int terms,
                               int bn_from_batch, int N, int C, int L, const double* __restrict__ sums,
                               T* __restrict__ dx) {
    __shared__ T coef[4];
    double w[3];
    double v[3];
    if (threadIdx.x == 0) {
        softmax3(mean_logits, terms, w);
        softmax3(var_logits, terms, v);
    }
    const bool bn = bn_from_batch != 0 && terms == 3;
    const int instances = N * C;
    for (int i = blockIdx.x; i < instances; i += gridDim.x) {
        if (threadIdx.x == 0) {
            const int n = i / C;
            const int c = i - n * C;
            const double ai = a[i];
            const double bi = b[i];
            const double m_in = mean_in[i];
            const double a_c = sums[n];
            const double b_c = sums[N + n];
            double g_mean = w[0] * ai + w[1] / C * a_c + 2.0 / C * (m_in - mean_ln[n]) * v[1] * b_c;
            double g_var = v[0] * bi + v[1] / C * b_c;
            if (bn) {
                const double a_n = sums[2 * N + c];
                const double b_n = sums[2 * N + C + c];
                g_mean += w[2] / N * a_n + 2.0 / N * (m_in - mean_bn[c]) * v[2] * b_n;
                g_var += v[2] / N * b_n;
            }
            const double g = gamma != nullptr ? static_cast<double>(gamma[c]) : 1.0;
            coef[0] = static_cast<T>(g * rstd[i]);
            coef[1] = static_cast<T>(g_mean / L);
            coef[2] = static_cast<T>(2.0 * g_var / (L - 1));
            coef[3] = mean_in[i];
        }
        __syncthreads();
        const T k1 = coef[0];
        const T k0 = coef[1];
        const T k2 = coef[2];
        const T m = coef[3];
        const long long base = static_cast<long long>(i) * L;
        for (int e = threadIdx.x; e < L / W; e += blockDim.x) {
            T qd[W];
            T qx[W];
            jnorm::load_vec<W>(dy + base + e * W, qd);
            jnorm::load_vec<W>(x + base + e * W, qx);
#pragma unroll
            for (int k = 0; k < W; ++k) {
                qd[k] = k1 * qd[k] + k0 + k2 * (qx[k] - m);
            }
            jnorm::store_vec<W>(dx + base + e * W, qd);
        }
        __syncthreads();
    }
}

}  // namespace

// `vec` selects 16-byte vectors; the host sets it only when L is a multiple of the vector width,
// so every row starts on a 16-byte boundary and has no tail.
#define SN_DISPATCH(T, fn, ...)                      \
    if (vec) {                                       \
        fn<T, jnorm::NormVec<T>::kWidth>(__VA_ARGS__); \
    } else {                                         \
        fn<T, 1>(__VA_ARGS__);                       \
    }

#define SN_ENTRIES(T, SUF)                                                                                       \
    extern "C" __global__ void sn_statistics_##SUF(const T* x, int N, int C, int L, T* mean_in, T* var_in,     \
                                                   T* mean_ln, T* var_ln, T* mean_bn, T* var_bn,               \
                                                   unsigned* ticket, T* run_mean, T* run_var, T keep,          \
                                                   T one_minus_keep, int vec) {                                 \
        SN_DISPATCH(T, statistics, x, N, C, L, mean_in, var_in, mean_ln, var_ln, mean_bn, var_bn, ticket,     \
                    run_mean, run_var, keep, one_minus_keep)                                                     \
    }                                                                                                            \
    extern "C" __global__ void sn_forward_##SUF(const T* x, const T* mean_in, const T* var_in, const T* mean_ln, \
                                                const T* var_ln, const T* mean_bn, const T* var_bn,             \
                                                const T* mean_logits, const T* var_logits, int terms,           \
                                                const T* gamma, const T* beta, T eps, int N, int C, int L,      \
                                                T* y, T* mean, T* rstd, int vec) {                              \
        SN_DISPATCH(T, forward, x, mean_in, var_in, mean_ln, var_ln, mean_bn, var_bn, mean_logits, var_logits, \
                    terms, gamma, beta, eps, N, C, L, y, mean, rstd)                                            \
    }                                                                                                            \
    extern "C" __global__ void sn_backward_reduce_##SUF(const T* x, const T* dy, const T* mean, const T* rstd,  \
                                                        const T* gamma, int N, int C, int L, T* a, T* b,        \
                                                        T* dgamma, T* dbeta, T* row_sums, unsigned* ticket,     \
                                                        int vec) {                                              \
        SN_DISPATCH(T, backward_reduce, x, dy, mean, rstd, gamma, N, C, L, a, b, dgamma, dbeta, row_sums,      \
                    ticket)                                                                                     \
    }                                                                                                            \
    extern "C" __global__ void sn_backward_logits_##SUF(const T* a, const T* b, const T* mean_in,               \
                                                        const T* var_in, const T* mean_ln, const T* var_ln,     \
                                                        const T* mean_bn, const T* var_bn, const T* mean_logits,\
                                                        const T* var_logits, int terms, int N, int C,           \
                                                        T* dmean_logits, T* dvar_logits) {                      \
        backward_logits(a, b, mean_in, var_in, mean_ln, var_ln, mean_bn, var_bn, mean_logits, var_logits,     \
                        terms, N, C, dmean_logits, dvar_logits);                                                \
    }                                                                                                            \
    extern "C" __global__ void sn_backward_sums_##SUF(const T* a, const T* b, int N, int C, double* sums) {    \
        backward_sums(a, b, N, C, sums);                                                                        \
    }                                                                                                            \
    extern "C" __global__ void sn_backward_input_##SUF(const T* x, const T* dy, const T* a, const T* b,         \
                                                       const T* mean_in, const T* mean_ln, const T* mean_bn,    \
                                                       const T* rstd, const T* gamma, const T* mean_logits,     \
                                                       const T* var_logits, int terms, int bn_from_batch,       \
                                                       int N, int C, int L, const double* sums, T* dx,          \
                                                       int vec) {                                               \
        SN_DISPATCH(T, backward_input, x, dy, a, b, mean_in, mean_ln, mean_bn, rstd, gamma, mean_logits,       \
                    var_logits, terms, bn_from_batch, N, C, L, sums, dx)                                        \
    }

SN_ENTRIES(float, f32)
SN_ENTRIES(double, f64)
