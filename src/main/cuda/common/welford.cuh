// Welford's running mean / sum of squared deviations, and the parallel merge of two partial
// states (Chan et al.), used by every variance in jnorm's kernels.
//
// Why Welford and not sum / sum-of-squares: E[x^2] - E[x]^2 cancels catastrophically in float
// when the mean is large against the spread; Welford keeps the deviations small. Why not two
// passes: one pass reads the input once (half the global traffic of a two-pass variance).
//
// Counts are kept as float/double (T): the merge needs the ratio nb / n in T anyway, and the
// counts of one thread or one block stay far below 2^24.
#pragma once

#include "reduce.cuh"

namespace jnorm {

template <typename T>
struct Welford {
    T n;
    T mean;
    T m2;
};

template <typename T>
__device__ __forceinline__ void welford_push(Welford<T>& w, T x) {
    w.n += T(1);
    const T d = x - w.mean;
    w.mean += d / w.n;
    w.m2 += d * (x - w.mean);
}

// Chan et al.'s parallel merge; an empty side returns the other unchanged, so no 0·inf or 0/0
// turns an infinite or NaN mean of the non-empty side into something else.
template <typename T>
__device__ __forceinline__ Welford<T> welford_merge(const Welford<T>& a, const Welford<T>& b) {
    if (b.n == T(0)) {
        return a;
    }
    if (a.n == T(0)) {
        return b;
    }
    const T n = a.n + b.n;
    const T d = b.mean - a.mean;
    const T fb = b.n / n;
    Welford<T> r;
    r.n = n;
    r.mean = a.mean + d * fb;
    r.m2 = a.m2 + b.m2 + d * d * a.n * fb;
    return r;
}

template <typename T>
__device__ __forceinline__ Welford<T> warp_welford(Welford<T> w) {
#pragma unroll
    for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
        Welford<T> o;
        o.n = __shfl_xor_sync(kFullMask, w.n, offset);
        o.mean = __shfl_xor_sync(kFullMask, w.mean, offset);
        o.m2 = __shfl_xor_sync(kFullMask, w.m2, offset);
        w = welford_merge(w, o);
    }
    return w;
}

// The block's merged state, valid in every thread; same contract as block_reduce_sum
// (blockDim.x a multiple of 32, called by every thread, scratch of 32 states reusable after).
template <typename T>
__device__ __forceinline__ Welford<T> block_welford(Welford<T> w, Welford<T>* scratch) {
    const int lane = threadIdx.x % kWarpSize;
    const int warp = threadIdx.x / kWarpSize;
    const int num_warps = blockDim.x / kWarpSize;
    w = warp_welford(w);
    if (lane == 0) {
        scratch[warp] = w;
    }
    __syncthreads();
    Welford<T> total = lane < num_warps ? scratch[lane] : Welford<T>{T(0), T(0), T(0)};
    total = warp_welford(total);
    __syncthreads();
    return total;
}

}  // namespace jnorm
