// 16-byte vector access for contiguous kernels.
//
// Why 16 bytes: one ld.global.v4.f32 (or .v2.f64) moves a full 16 bytes per lane, so a warp
// request covers 512 contiguous bytes (16 sectors) with a quarter of the load instructions of
// scalar code. The memory system is the bottleneck of every elementwise kernel; fewer, wider
// requests keep more bytes in flight per thread.
//
// Alignment contract: every pointer handed to a vectorized loop is 16-byte aligned. The cuda
// backend's allocator returns 256-byte aligned blocks and jnorm has no views with offsets, so a
// tensor's data always starts aligned; the launchers assert it on the host.
#pragma once

namespace jnorm {

template <typename T>
struct Vec16;

template <>
struct Vec16<float> {
    using type = float4;
    static constexpr int kWidth = 4;
};

template <>
struct Vec16<double> {
    using type = double2;
    static constexpr int kWidth = 2;
};

// Element k of a 16-byte vector (k is a compile-time constant after unrolling).
__device__ __forceinline__ float& lane(float4& v, int k) {
    return k == 0 ? v.x : k == 1 ? v.y : k == 2 ? v.z : v.w;
}

__device__ __forceinline__ double& lane(double2& v, int k) {
    return k == 0 ? v.x : v.y;
}

// The grid-stride geometry shared by every 1-D kernel: 64-bit so a tensor of more than 2^31
// elements cannot wrap the index (the one 64-bit add per iteration is free next to the load).
__device__ __forceinline__ long long global_thread() {
    return static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ __forceinline__ long long grid_threads() {
    return static_cast<long long>(gridDim.x) * blockDim.x;
}

// out[i] = f(a[i]) over n contiguous elements: vectors first, then the n % width tail by the
// first threads of the grid.
template <typename T, typename F>
__device__ __forceinline__ void map1(long long n, const T* __restrict__ a, T* __restrict__ out, F f) {
    using V = typename Vec16<T>::type;
    constexpr int W = Vec16<T>::kWidth;
    const long long nv = n / W;
    const V* av = reinterpret_cast<const V*>(a);
    V* ov = reinterpret_cast<V*>(out);
    // Not unrolled: each iteration already moves 16 bytes per lane, and unrolling a loop with
    // a 64-bit trip count only adds remainder code (whose `mov.pred %p, 0` the PTX emulator
    // does not decode yet).
#pragma unroll 1
    for (long long i = global_thread(); i < nv; i += grid_threads()) {
        V v = av[i];
#pragma unroll
        for (int k = 0; k < W; ++k) {
            lane(v, k) = f(lane(v, k));
        }
        ov[i] = v;
    }
    const long long t = nv * W + global_thread();
    if (t < n) {
        out[t] = f(a[t]);
    }
}

// out[i] = f(a[i], b[i]); an operand flagged scalar is read once and broadcast (its pointer
// holds one element), so "tensor op scalar" also gets the vector path.
template <bool kScalarA, bool kScalarB, typename T, typename F>
__device__ __forceinline__ void map2(long long n, const T* __restrict__ a, const T* __restrict__ b,
                                     T* __restrict__ out, F f) {
    using V = typename Vec16<T>::type;
    constexpr int W = Vec16<T>::kWidth;
    const long long nv = n / W;
    const V* av = reinterpret_cast<const V*>(a);
    const V* bv = reinterpret_cast<const V*>(b);
    V* ov = reinterpret_cast<V*>(out);
    const T sa = kScalarA ? a[0] : T(0);
    const T sb = kScalarB ? b[0] : T(0);
    // Not unrolled: each iteration already moves 16 bytes per lane, and unrolling a loop with
    // a 64-bit trip count only adds remainder code (whose `mov.pred %p, 0` the PTX emulator
    // does not decode yet).
#pragma unroll 1
    for (long long i = global_thread(); i < nv; i += grid_threads()) {
        V va;
        V vb;
        if (!kScalarA) {
            va = av[i];
        }
        if (!kScalarB) {
            vb = bv[i];
        }
        V r;
#pragma unroll
        for (int k = 0; k < W; ++k) {
            lane(r, k) = f(kScalarA ? sa : lane(va, k), kScalarB ? sb : lane(vb, k));
        }
        ov[i] = r;
    }
    const long long t = nv * W + global_thread();
    if (t < n) {
        out[t] = f(kScalarA ? sa : a[t], kScalarB ? sb : b[t]);
    }
}

}  // namespace jnorm
