// Warp- and block-level sum reductions shared by every kernel that reduces.
//
// Why a butterfly (xor) shuffle and not shfl.down: after log2(32) xor steps every lane holds
// the full warp sum, so the caller never needs a second broadcast shuffle, and the code has
// no "only lane 0 is valid" trap. The cost is identical (5 shuffles per value).
//
// Block reduction scheme (the one used across jnorm):
//   1. each warp reduces in registers with shuffles (no shared memory, no barrier);
//   2. lane 0 of each warp writes its partial to shared memory (at most 32 partials, since a
//      block has at most 1024 threads);
//   3. after one barrier, warp 0 reduces the partials with shuffles again.
// Only two barriers per reduction and 32 * sizeof(T) bytes of shared memory, independent of
// the block size; a shared-memory tree would need log2(blockDim) barriers.
#pragma once

namespace jnorm {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpSize = 32;

template <typename T>
__device__ __forceinline__ T warp_reduce_sum(T v) {
#pragma unroll
    for (int offset = kWarpSize / 2; offset > 0; offset >>= 1) {
        v += __shfl_xor_sync(kFullMask, v, offset);
    }
    return v;
}

// Sum of v over the whole block; the result is valid in every thread.
// Requirements: blockDim.x is a multiple of 32 (every warp full, so the full-mask shuffles are
// legal) and every thread of the block calls it (it contains barriers).
// `scratch` must hold 32 values; it may be reused right after the call returns because the
// trailing barrier orders the reads of this call before any later writes.
template <typename T>
__device__ __forceinline__ T block_reduce_sum(T v, T* scratch) {
    const int lane = threadIdx.x % kWarpSize;
    const int warp = threadIdx.x / kWarpSize;
    const int num_warps = blockDim.x / kWarpSize;

    v = warp_reduce_sum(v);
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    // Every warp re-reduces the partials rather than only warp 0, so the result lands in all
    // threads without a third barrier and a broadcast through shared memory.
    T total = lane < num_warps ? scratch[lane] : T(0);
    total = warp_reduce_sum(total);
    __syncthreads();
    return total;
}

}  // namespace jnorm
