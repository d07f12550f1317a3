// Building blocks of the normalization kernels (norm.cu), on top of welford.cuh (the one Welford
// state and merge of jnorm): two-value block sums, 16-byte vector access, the "which elements share a statistic"
// geometry, and the last-block-done ticket for grid-level reductions.
//
// Why Welford in the streaming statistics kernel: sum/sum-of-squares cancels catastrophically in
// float when |mean| >> std; Welford keeps deviations small and reads x once. The kernels that
// cache a whole statistic on chip use the exact two-pass formula instead (mean, then centred
// squares from shared memory), which costs no extra global traffic.
//
// Determinism: every merge below runs in a fixed tree (xor shuffles, then warp partials in warp
// order, then grid partials in block order), so results do not depend on block scheduling.
// There are no floating-point atomics anywhere in the norm kernels.
#pragma once

#include "reduce.cuh"
#include "welford.cuh"

namespace jnorm {

// Two sums at once (backward needs Σg and Σg·x̂ together): one pair of barriers, not two.
template <typename T>
__device__ __forceinline__ void block_reduce_sum2(T& a, T& b, T* scratch /* 64 values */) {
    const int lane = threadIdx.x % kWarpSize;
    const int warp = threadIdx.x / kWarpSize;
    const int num_warps = blockDim.x / kWarpSize;
    a = warp_reduce_sum(a);
    b = warp_reduce_sum(b);
    if (lane == 0) {
        scratch[warp] = a;
        scratch[32 + warp] = b;
    }
    __syncthreads();
    a = warp_reduce_sum(lane < num_warps ? scratch[lane] : T(0));
    b = warp_reduce_sum(lane < num_warps ? scratch[32 + lane] : T(0));
    __syncthreads();
}

// ---- 16-byte vectors ------------------------------------------------------------------------

template <typename T>
struct NormVec;

template <>
struct NormVec<float> {
    static constexpr int kWidth = 4;
};

template <>
struct NormVec<double> {
    static constexpr int kWidth = 2;
};

// Loads W consecutive elements; W > 1 needs p 16-byte aligned (the host checks the geometry).
template <int W, typename T>
__device__ __forceinline__ void load_vec(const T* p, T (&v)[W]) {
    if constexpr (W == 4) {
        const float4 q = __ldg(reinterpret_cast<const float4*>(p));
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    } else if constexpr (W == 2) {
        const double2 q = __ldg(reinterpret_cast<const double2*>(p));
        v[0] = q.x; v[1] = q.y;
    } else {
        v[0] = __ldg(p);
    }
}

template <int W, typename T>
__device__ __forceinline__ void store_vec(T* p, const T (&v)[W]) {
    if constexpr (W == 4) {
        *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
    } else if constexpr (W == 2) {
        *reinterpret_cast<double2*>(p) = make_double2(v[0], v[1]);
    } else {
        p[0] = v[0];
    }
}

// Shared-memory versions: plain (not __ldg) accesses.
template <int W, typename T>
__device__ __forceinline__ void load_vec_shared(const T* p, T (&v)[W]) {
    if constexpr (W == 4) {
        const float4 q = *reinterpret_cast<const float4*>(p);
        v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
    } else if constexpr (W == 2) {
        const double2 q = *reinterpret_cast<const double2*>(p);
        v[0] = q.x; v[1] = q.y;
    } else {
        v[0] = p[0];
    }
}

// ---- statistic geometry -----------------------------------------------------------------------
//
// The M elements of statistic s are `M / run_len` runs of `run_len` contiguous elements:
//   element e of s lives at  s * stat_stride + (e / run_len) * run_stride + e % run_len
//   PER_CHANNEL (stat = channel c): runs = N, run_len = L, run_stride = C*L, stat_stride = L
//   PER_GROUP   (stat = n*G + g):   runs = 1, run_len = (C/G)*L,             stat_stride = (C/G)*L
// and its affine channel is (s % groups) * cg + (e % run_len) / L (groups = C, cg = 1 for
// PER_CHANNEL). One description serves BN, GN, IN and LN, so every kernel below exists once.
struct NormGeom {
    int stats;
    int groups;
    int cg;
    int L;
    int run_len;
    int run_stride;
    int stat_stride;
    int M;

    __device__ __forceinline__ long long index(int s, int e) const {
        return static_cast<long long>(s) * stat_stride + static_cast<long long>(e / run_len) * run_stride
                + e % run_len;
    }

    // Channel of element e relative to the statistic's first channel.
    __device__ __forceinline__ int local_channel(int e) const {
        return (e % run_len) / L;
    }

    __device__ __forceinline__ int first_channel(int s) const {
        return (s % groups) * cg;
    }
};

// ---- grid-level reduction ticket ---------------------------------------------------------------
//
// Each block of a statistic writes its partial, then thread 0 publishes it (fence) and takes a
// ticket; the block that draws the last ticket merges every partial in block order and resets
// the counter to 0 for the next launch. One atomic per block, none per element.
// Works for 1-D and 2-D blocks: exactly one thread (0, 0, 0) takes the ticket.
__device__ __forceinline__ bool norm_last_block(unsigned* ticket, unsigned blocks, int* flag) {
    if (threadIdx.x == 0 && threadIdx.y == 0 && threadIdx.z == 0) {
        __threadfence();
        const unsigned t = atomicAdd(ticket, 1u);
        *flag = t == blocks - 1;
    }
    __syncthreads();
    const bool last = *flag != 0;
    if (last) {
        __threadfence();
    }
    return last;
}

}  // namespace jnorm
