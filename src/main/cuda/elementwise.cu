// Elementwise kernels: unary functions and their backward, binary arithmetic with NumPy
// broadcasting, scalar powers, and the dtype casts of Backend.copy.
//
// Every kernel is memory bound (a few flops per element), so the design goals are the number of
// bytes moved and the width of each request:
//   - same-shape (and tensor-with-scalar) operands take the contiguous path: 16-byte vector loads
//     and stores in a 64-bit grid-stride loop, plus a scalar tail of n % width elements;
//   - broadcast operands take the strided path: one thread per output element, the operand
//     offsets from a host-coalesced index map (common/strided.cuh);
//   - the op is chosen by a switch OUTSIDE the element loop, each case instantiating its own
//     loop, so the inner loop has no per-element branch on the op;
//   - a backward reads only the tensors its derivative needs (x or y, never both), so exp's
//     backward moves 3 tensors, not 4.
// Arithmetic mirrors the CPU reference's operation order (io.jnorm.backend.cpu.CpuElementwise),
// so float64 results differ from it only where a libm function does.
//
// Launch (all 1-D kernels here): any grid and block; the host uses 256 threads and a grid capped
// at a few blocks per SM, so threads loop several times over large tensors.

#include "common/strided.cuh"
#include "common/vec.cuh"

namespace ew {

// Op codes: the ordinals of io.jnorm.backend.UnaryOp and BinaryOp.
enum Unary { kNeg = 0, kExp, kLog, kSqrt, kRelu, kSigmoid, kTanh, kAbs };
enum Binary { kAdd = 0, kSub, kMul, kDiv };

template <typename T, int Op>
struct UnaryFn {
    __device__ __forceinline__ T operator()(T x) const {
        if (Op == kNeg) {
            return -x;
        } else if (Op == kExp) {
            return exp(x);
        } else if (Op == kLog) {
            return log(x);
        } else if (Op == kSqrt) {
            return sqrt(x);
        } else if (Op == kRelu) {
            // NaN propagates (x != x), and -0 becomes +0, as in the reference.
            return (x > T(0) || x != x) ? x : T(0);
        } else if (Op == kSigmoid) {
            // Two branches so that exp never overflows: exp(-x) for x >= 0, exp(x) below.
            if (x >= T(0)) {
                return T(1) / (T(1) + exp(-x));
            }
            const T e = exp(x);
            return e / (T(1) + e);
        } else if (Op == kTanh) {
            return tanh(x);
        } else {
            return fabs(x);
        }
    }
};

// dx = dy * f'(.), where the argument is x (log, relu, abs) or y (exp, sqrt, sigmoid, tanh).
template <typename T, int Op>
struct UnaryGrad {
    __device__ __forceinline__ T operator()(T v, T g) const {
        if (Op == kExp) {
            return g * v;
        } else if (Op == kLog) {
            return g * (T(1) / v);
        } else if (Op == kSqrt) {
            return g * (T(0.5) / v);
        } else if (Op == kRelu) {
            // A multiply, not a select, so an infinite or NaN dy behaves as in the reference.
            return g * (v > T(0) ? T(1) : T(0));
        } else if (Op == kSigmoid) {
            return g * (v * (T(1) - v));
        } else if (Op == kTanh) {
            // (1 - y)(1 + y), not 1 - y*y: for y near 1 the subtraction is exact here, whereas
            // rounding y*y first loses the low bits that 1 - y*y consists of.
            return g * ((T(1) - v) * (T(1) + v));
        } else {
            // signum: NaN stays NaN, +-0 stays 0.
            const T s = v > T(0) ? T(1) : v < T(0) ? T(-1) : v;
            return g * s;
        }
    }
};

template <typename T>
struct NegGrad {
    __device__ __forceinline__ T operator()(T g) const {
        return g * T(-1);
    }
};

template <typename T, int Op>
struct BinaryFn {
    __device__ __forceinline__ T operator()(T a, T b) const {
        return Op == kAdd ? a + b : Op == kSub ? a - b : Op == kMul ? a * b : a / b;
    }
};

template <typename T>
struct PowFn {
    T p;
    __device__ __forceinline__ T operator()(T x) const {
        return pow(x, p);
    }
};

template <typename T>
struct PowGrad {
    T p;
    __device__ __forceinline__ T operator()(T x, T g) const {
        return p == T(0) ? T(0) : g * p * pow(x, p - T(1));
    }
};

// ---------------------------------------------------------------------------------------------
// unary: y = f(x), contiguous. Parallel over elements (vectors of 16 bytes).
template <typename T>
__device__ void unary(int op, long long n, const T* __restrict__ x, T* __restrict__ y) {
    switch (op) {
        case kNeg: jnorm::map1(n, x, y, UnaryFn<T, kNeg>()); break;
        case kExp: jnorm::map1(n, x, y, UnaryFn<T, kExp>()); break;
        case kLog: jnorm::map1(n, x, y, UnaryFn<T, kLog>()); break;
        case kSqrt: jnorm::map1(n, x, y, UnaryFn<T, kSqrt>()); break;
        case kRelu: jnorm::map1(n, x, y, UnaryFn<T, kRelu>()); break;
        case kSigmoid: jnorm::map1(n, x, y, UnaryFn<T, kSigmoid>()); break;
        case kTanh: jnorm::map1(n, x, y, UnaryFn<T, kTanh>()); break;
        default: jnorm::map1(n, x, y, UnaryFn<T, kAbs>()); break;
    }
}

// ---------------------------------------------------------------------------------------------
// unary_backward: dx = dy * f'(v), contiguous. `v` is x or y, whichever the host passes for the
// op (UnaryOp's derivative needs only one of them); neg reads dy alone.
template <typename T>
__device__ void unary_backward(int op, long long n, const T* __restrict__ v, const T* __restrict__ dy,
                               T* __restrict__ dx) {
    switch (op) {
        case kNeg: jnorm::map1(n, dy, dx, NegGrad<T>()); break;
        case kExp: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kExp>()); break;
        case kLog: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kLog>()); break;
        case kSqrt: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kSqrt>()); break;
        case kRelu: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kRelu>()); break;
        case kSigmoid: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kSigmoid>()); break;
        case kTanh: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kTanh>()); break;
        default: jnorm::map2<false, false>(n, v, dy, dx, UnaryGrad<T, kAbs>()); break;
    }
}

// ---------------------------------------------------------------------------------------------
// binary: out = a op b where each operand is either out-shaped or a single element (`scalar_a`,
// `scalar_b`). Parallel over output vectors; a scalar operand is read once per thread.
template <typename T, int Op>
__device__ __forceinline__ void binary_layout(int scalar_a, int scalar_b, long long n, const T* a, const T* b,
                                              T* out) {
    if (scalar_a) {
        jnorm::map2<true, false>(n, a, b, out, BinaryFn<T, Op>());
    } else if (scalar_b) {
        jnorm::map2<false, true>(n, a, b, out, BinaryFn<T, Op>());
    } else {
        jnorm::map2<false, false>(n, a, b, out, BinaryFn<T, Op>());
    }
}

template <typename T>
__device__ void binary(int op, int scalar_a, int scalar_b, long long n, const T* __restrict__ a,
                       const T* __restrict__ b, T* __restrict__ out) {
    switch (op) {
        case kAdd: binary_layout<T, kAdd>(scalar_a, scalar_b, n, a, b, out); break;
        case kSub: binary_layout<T, kSub>(scalar_a, scalar_b, n, a, b, out); break;
        case kMul: binary_layout<T, kMul>(scalar_a, scalar_b, n, a, b, out); break;
        default: binary_layout<T, kDiv>(scalar_a, scalar_b, n, a, b, out); break;
    }
}

// ---------------------------------------------------------------------------------------------
// binary_bcast: out = a op b with NumPy broadcasting. One thread per output element in a
// grid-stride loop; operand offsets come from the coalesced index map (strides 0 on broadcast
// axes). Consecutive threads write consecutive outputs, and read consecutive elements of any
// operand whose innermost coalesced axis is not broadcast, so loads stay coalesced; a broadcast
// operand (a bias [1, C, 1, 1]) is re-read by neighbouring threads from the same sector.
template <typename T, int Op>
__device__ __forceinline__ void binary_bcast_loop(unsigned n, const T* __restrict__ a, const T* __restrict__ b,
                                                  T* __restrict__ out, const jnorm::StridedMap<2>& map) {
    const BinaryFn<T, Op> f;
    const unsigned stride = gridDim.x * blockDim.x;
    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        unsigned off[2];
        jnorm::strided_offsets(map, i, off);
        out[i] = f(a[off[0]], b[off[1]]);
    }
}

template <typename T>
__device__ void binary_bcast(int op, unsigned n, const T* __restrict__ a, const T* __restrict__ b,
                             T* __restrict__ out, const jnorm::StridedMap<2>& map) {
    switch (op) {
        case kAdd: binary_bcast_loop<T, kAdd>(n, a, b, out, map); break;
        case kSub: binary_bcast_loop<T, kSub>(n, a, b, out, map); break;
        case kMul: binary_bcast_loop<T, kMul>(n, a, b, out, map); break;
        default: binary_bcast_loop<T, kDiv>(n, a, b, out, map); break;
    }
}

// ---------------------------------------------------------------------------------------------
// cast: y = (To) x, contiguous. Parallel over elements; scalar loads are already coalesced
// (a warp reads 128 or 256 contiguous bytes), and the two sides have different vector widths.
template <typename From, typename To>
__device__ void cast(long long n, const From* __restrict__ x, To* __restrict__ y) {
#pragma unroll 1
    for (long long i = jnorm::global_thread(); i < n; i += jnorm::grid_threads()) {
        y[i] = static_cast<To>(x[i]);
    }
}

// fill: y = v, contiguous, 16-byte vector stores. Why a kernel and not a host copy: a scalar
// operand (x * 2.0) or a constant tensor (the seed of backward) is made by passing the value as
// a kernel parameter, which is asynchronous, where a host-to-device copy would make the host
// wait for the whole stream.
template <typename T>
__device__ void fill(long long n, T v, T* __restrict__ y) {
    using V = typename jnorm::Vec16<T>::type;
    constexpr int W = jnorm::Vec16<T>::kWidth;
    V vv;
#pragma unroll
    for (int k = 0; k < W; ++k) {
        jnorm::lane(vv, k) = v;
    }
    const long long nv = n / W;
    V* yv = reinterpret_cast<V*>(y);
#pragma unroll 1
    for (long long i = jnorm::global_thread(); i < nv; i += jnorm::grid_threads()) {
        yv[i] = vv;
    }
    const long long t = nv * W + jnorm::global_thread();
    if (t < n) {
        y[t] = v;
    }
}

}  // namespace ew

extern "C" {

__global__ void ew_unary_f32(int op, long long n, const float* __restrict__ x, float* __restrict__ y) {
    ew::unary(op, n, x, y);
}
__global__ void ew_unary_f64(int op, long long n, const double* __restrict__ x, double* __restrict__ y) {
    ew::unary(op, n, x, y);
}

__global__ void ew_unary_backward_f32(int op, long long n, const float* __restrict__ v,
                                      const float* __restrict__ dy, float* __restrict__ dx) {
    ew::unary_backward(op, n, v, dy, dx);
}
__global__ void ew_unary_backward_f64(int op, long long n, const double* __restrict__ v,
                                      const double* __restrict__ dy, double* __restrict__ dx) {
    ew::unary_backward(op, n, v, dy, dx);
}

__global__ void ew_binary_f32(int op, int scalar_a, int scalar_b, long long n, const float* __restrict__ a,
                              const float* __restrict__ b, float* __restrict__ out) {
    ew::binary(op, scalar_a, scalar_b, n, a, b, out);
}
__global__ void ew_binary_f64(int op, int scalar_a, int scalar_b, long long n, const double* __restrict__ a,
                              const double* __restrict__ b, double* __restrict__ out) {
    ew::binary(op, scalar_a, scalar_b, n, a, b, out);
}

__global__ void ew_binary_bcast_f32(int op, unsigned n, const float* __restrict__ a, const float* __restrict__ b,
                                    float* __restrict__ out, const jnorm::StridedMap<2> map) {
    ew::binary_bcast(op, n, a, b, out, map);
}
__global__ void ew_binary_bcast_f64(int op, unsigned n, const double* __restrict__ a,
                                    const double* __restrict__ b, double* __restrict__ out,
                                    const jnorm::StridedMap<2> map) {
    ew::binary_bcast(op, n, a, b, out, map);
}

// pow: y = x^p; pow_backward: dx = dy * p * x^(p-1) (0 when p == 0). Contiguous, vectorized.
__global__ void ew_pow_f32(long long n, float p, const float* __restrict__ x, float* __restrict__ y) {
    jnorm::map1(n, x, y, ew::PowFn<float>{p});
}
__global__ void ew_pow_f64(long long n, double p, const double* __restrict__ x, double* __restrict__ y) {
    jnorm::map1(n, x, y, ew::PowFn<double>{p});
}
__global__ void ew_pow_backward_f32(long long n, float p, const float* __restrict__ x,
                                    const float* __restrict__ dy, float* __restrict__ dx) {
    jnorm::map2<false, false>(n, x, dy, dx, ew::PowGrad<float>{p});
}
__global__ void ew_pow_backward_f64(long long n, double p, const double* __restrict__ x,
                                    const double* __restrict__ dy, double* __restrict__ dx) {
    jnorm::map2<false, false>(n, x, dy, dx, ew::PowGrad<double>{p});
}

__global__ void ew_fill_f32(long long n, float v, float* __restrict__ y) {
    ew::fill(n, v, y);
}
__global__ void ew_fill_f64(long long n, double v, double* __restrict__ y) {
    ew::fill(n, v, y);
}

__global__ void cast_f32_to_f64(long long n, const float* __restrict__ x, double* __restrict__ y) {
    ew::cast(n, x, y);
}
__global__ void cast_f64_to_f32(long long n, const double* __restrict__ x, float* __restrict__ y) {
    ew::cast(n, x, y);
}

}  // extern "C"
