// Batched matrix product C[t] = op(A[t']) * op(B[t'']) for matmul and linear.
//
// gemm: the 64 x 64 register-blocked shared-memory tile of common/igemm.cuh over strided
// operands. Parallelizes over output tiles (grid x over N, y over M) and over the batch
// (grid z), so every block does a full K loop of 8-wide slices with no inter-block traffic.
// Why it is fast: each staged element is reused 64 times from shared memory; operands whose
// contiguous axis is a multiple of 4 and 16-byte aligned are staged with 16-byte vector loads
// (a quarter of the load instructions, every sector fully used), others with scalar loads whose
// lanes still read consecutive addresses for the operand's layout (transposed or not); the
// epilogue writes 16 consecutive columns per half warp.
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

// 16-byte vector loads of 4 consecutive elements (one float4, or two double2).
__device__ __forceinline__ void load4(const float* p, float (&r)[4]) {
    const float4 v = *reinterpret_cast<const float4*>(p);
    r[0] = v.x;
    r[1] = v.y;
    r[2] = v.z;
    r[3] = v.w;
}
__device__ __forceinline__ void load4(const double* p, double (&r)[4]) {
    const double2 u = reinterpret_cast<const double2*>(p)[0];
    const double2 v = reinterpret_cast<const double2*>(p)[1];
    r[0] = u.x;
    r[1] = u.y;
    r[2] = v.x;
    r[3] = v.y;
}

// One operand of the product, element (outer, k) at base[outer * s_outer + k * s_k] (outer is
// the row of A or the column of B), with two ways to share its 64 x 8 slice among the threads:
//  - vector: when the contiguous axis has unit stride, a length that is a multiple of 4 and a
//    16-byte aligned base, one half of the block (A: threads 0-127, B: 128-255) loads the slice
//    as 128 runs of 4 consecutive elements: one 16-byte load each, a quarter of the load
//    instructions, 2 threads per 32-byte row segment (k contiguous) or 16 per 64-element column
//    run (outer contiguous), i.e. every sector fully used;
//  - scalar: every thread loads 2 elements with the k-fast or outer-fast slots (coalesced for
//    either layout, but one instruction per element); used for odd lengths or unaligned views.
template <typename T>
struct Operand {
    const T* base;
    int outer_limit;
    int k_limit;
    long long s_outer;
    long long s_k;
    int outer0;
    bool k_contig;  // unit stride along k (else along outer)
    bool vec;
    int half;       // which half of the block loads in vector mode (0: A, 1: B)
    T r[4];

    __device__ __forceinline__ void init(const T* b, int outer_lim, int k_lim, long long so, long long sk, int o0,
                                         int which) {
        base = b;
        outer_limit = outer_lim;
        k_limit = k_lim;
        s_outer = so;
        s_k = sk;
        outer0 = o0;
        k_contig = sk == 1;
        half = which;
        const long long run = k_contig ? so : sk;  // stride between vector runs
        vec = run % 4 == 0 && (reinterpret_cast<unsigned long long>(b) & 15) == 0;
    }

    __device__ __forceinline__ T at(int outer, int k) const {
        return (outer < outer_limit && k < k_limit) ? base[outer * s_outer + k * s_k] : T(0);
    }

    // Vector mode: this thread's run (the thread must be in this operand's half).
    __device__ __forceinline__ void run_origin(int t, int& outer, int& k) const {
        if (k_contig) {
            outer = t >> 1;
            k = (t & 1) * 4;
        } else {
            k = t >> 4;
            outer = (t & 15) * 4;
        }
    }

    __device__ __forceinline__ void fetch(int k0) {
        if (vec) {
            const int t = static_cast<int>(threadIdx.x) - half * 128;
            if (t < 0 || t >= 128) {
                return;
            }
            int o;
            int k;
            run_origin(t, o, k);
            o += outer0;
            k += k0;
            const bool whole = k_contig ? (o < outer_limit && k + 3 < k_limit) : (o + 3 < outer_limit && k < k_limit);
            if (whole) {
                load4(base + o * s_outer + k * s_k, r);
            } else {
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    r[i] = k_contig ? at(o, k + i) : at(o + i, k);
                }
            }
        } else {
#pragma unroll
            for (int e = 0; e < jnorm::igemm::kSlots; ++e) {
                const Slot sl = slot(e);
                r[e] = at(outer0 + sl.outer, k0 + sl.k);
            }
        }
    }

    __device__ __forceinline__ void stage(T (*tile)[jnorm::igemm::kTileM + jnorm::igemm::kPad]) const {
        if (vec) {
            const int t = static_cast<int>(threadIdx.x) - half * 128;
            if (t < 0 || t >= 128) {
                return;
            }
            int o;
            int k;
            run_origin(t, o, k);
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                if (k_contig) {
                    tile[k + i][o] = r[i];
                } else {
                    tile[k][o + i] = r[i];
                }
            }
        } else {
#pragma unroll
            for (int e = 0; e < jnorm::igemm::kSlots; ++e) {
                const Slot sl = slot(e);
                tile[sl.k][sl.outer] = r[e];
            }
        }
    }

    __device__ __forceinline__ Slot slot(int e) const {
        return k_contig ? jnorm::igemm::slot_k_fast(e) : jnorm::igemm::slot_outer_fast(e);
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

    // A: outer = m; B: outer = n. A's k stride is 1 unless transposed, B's unless not.
    Operand<T> la;
    la.init(A + t1 * p.a_stride1 + t2 * p.a_stride2, p.m, p.k, p.trans_a ? 1 : p.k, p.trans_a ? p.m : 1, m0, 0);
    Operand<T> lb;
    lb.init(B + t1 * p.b_stride1 + t2 * p.b_stride2, p.n, p.k, p.trans_b ? p.k : 1, p.trans_b ? 1 : p.n, n0, 1);

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
