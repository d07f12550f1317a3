// Batched matrix product C[t] = op(A[t']) * op(B[t'']) for matmul and linear.
//
// gemm: the 64 x 64 register-blocked shared-memory tile of common/igemm.cuh over strided
// operands. Parallelizes over output tiles (grid x over N, y over M) and over the batch
// (grid z), so every block does a full K loop of 8-wide slices with no inter-block traffic.
// Why it is fast: each staged element is reused 64 times from shared memory; the loaders pick
// the slot mapping whose lanes read consecutive addresses for the operand's layout (transposed
// or not), so every global load request is coalesced; the epilogue writes 16 consecutive
// columns per half warp.
// Broadcast batches: batch index t = z0 + blockIdx.z is split as (t1, t2) = (t / batch2,
// t % batch2) and each operand is offset by t1 * stride1 + t2 * stride2, so a stride of 0
// repeats an operand; two levels cover every broadcast of two batch axes after the host merges
// adjacent axes (the Java launcher falls back to several launches for the rare deeper cases).
// Launch: block 256, grid (ceil(N / 64), ceil(M / 64), batches <= 65535).

#include "common/igemm.cuh"

namespace gemm {

using jnorm::igemm::Slot;

// Mirrors io.jnorm.backend.cuda GEMM parameter packing (64 bytes, 8-byte aligned).
struct GemmParams {
    int m;
    int n;
    int k;
    int trans_a;  // A stored as [K, M] when set, [M, K] otherwise
    int trans_b;  // B stored as [N, K] when set, [K, N] otherwise
    int batch2;   // size of the inner batch level (>= 1)
    int z0;       // first batch index of this launch
    int pad_;
    long long a_stride1;
    long long a_stride2;
    long long b_stride1;
    long long b_stride2;
};

// Row-major or transposed A, addressed as base[m * sm + k * sk].
template <typename T>
struct LoadA {
    const T* base;
    int m_limit;
    int k_limit;
    int sm;
    int sk;
    int m0;
    bool k_fast;

    __device__ __forceinline__ Slot slot(int e) const {
        return k_fast ? jnorm::igemm::slot_k_fast(e) : jnorm::igemm::slot_outer_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const Slot s = slot(e);
        const int m = m0 + s.outer;
        const int k = k0 + s.k;
        return (m < m_limit && k < k_limit) ? base[static_cast<long long>(m) * sm + static_cast<long long>(k) * sk] : T(0);
    }
};

// Row-major or transposed B, addressed as base[k * sk + n * sn].
template <typename T>
struct LoadB {
    const T* base;
    int n_limit;
    int k_limit;
    int sn;
    int sk;
    int n0;
    bool k_fast;

    __device__ __forceinline__ Slot slot(int e) const {
        return k_fast ? jnorm::igemm::slot_k_fast(e) : jnorm::igemm::slot_outer_fast(e);
    }
    __device__ __forceinline__ T load(int e, int k0) const {
        const Slot s = slot(e);
        const int n = n0 + s.outer;
        const int k = k0 + s.k;
        return (n < n_limit && k < k_limit) ? base[static_cast<long long>(k) * sk + static_cast<long long>(n) * sn] : T(0);
    }
};

template <typename T>
__device__ void gemm(const T* __restrict__ A, const T* __restrict__ B, T* __restrict__ C, const GemmParams& p) {
    __shared__ jnorm::igemm::Smem<T> smem;
    const int t = p.z0 + static_cast<int>(blockIdx.z);
    const int t1 = t / p.batch2;
    const int t2 = t - t1 * p.batch2;
    const int m0 = static_cast<int>(blockIdx.y) * jnorm::igemm::kTileM;
    const int n0 = static_cast<int>(blockIdx.x) * jnorm::igemm::kTileN;

    LoadA<T> la{A + t1 * p.a_stride1 + t2 * p.a_stride2, p.m, p.k,
                p.trans_a ? 1 : p.k, p.trans_a ? p.m : 1, m0, !p.trans_a};
    LoadB<T> lb{B + t1 * p.b_stride1 + t2 * p.b_stride2, p.n, p.k,
                p.trans_b ? p.k : 1, p.trans_b ? 1 : p.n, n0, p.trans_b != 0};

    T acc[4][4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            acc[i][j] = T(0);
        }
    }
    jnorm::igemm::mainloop(la, lb, p.k, acc, smem);

    T* c = C + static_cast<long long>(t) * p.m * p.n;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int m = m0 + jnorm::igemm::out_row(i);
        if (m < p.m) {
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int n = n0 + jnorm::igemm::out_col(j);
                if (n < p.n) {
                    c[static_cast<long long>(m) * p.n + n] = acc[i][j];
                }
            }
        }
    }
}

}  // namespace gemm

extern "C" {

__global__ void __launch_bounds__(jnorm::igemm::kThreads)
gemm_f32(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C, const gemm::GemmParams p) {
    gemm::gemm(A, B, C, p);
}
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
gemm_f64(const double* __restrict__ A, const double* __restrict__ B, double* __restrict__ C, const gemm::GemmParams p) {
    gemm::gemm(A, B, C, p);
}

}  // extern "C"
