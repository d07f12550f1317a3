// 2-D convolution (cross-correlation, NCHW) forward and backward as implicit GEMMs.
//
// conv2d_fwd / conv2d_bwd_input / conv2d_bwd_weight: the three passes of
// common/conv_igemm.cuh (see there for the GEMM each one is and how its operands are gathered).
// They parallelize over 64 x 64 output tiles and channel groups (and K splits for the weight
// gradient); every input element is staged in shared memory once per tile and reused 64 times.
//
// conv2d_wgrad_reduce: dW[i] = sum over splits of partial[s, i], in split order.
// Parallelizes over weight elements (grid-stride); reads each partial once, coalesced. The fixed
// order makes the weight gradient bit-reproducible, unlike global atomics.
//
// conv2d_bias_grad: db[o] = sum over (n, oh, ow) of dy[n, o, oh, ow].
// One block per output channel: threads stride over each image's contiguous OH*OW plane
// (coalesced), then one block reduction; deterministic, no atomics.

#include "common/conv_igemm.cuh"
#include "common/reduce.cuh"

namespace conv2d {

using jnorm::conv::ConvParams;

template <typename T>
__device__ void wgrad_reduce(const T* __restrict__ partial, T* __restrict__ dw, int splits, int count) {
    const int stride = gridDim.x * blockDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += stride) {
        T s = partial[i];
        for (int k = 1; k < splits; ++k) {
            s += partial[static_cast<long long>(k) * count + i];
        }
        dw[i] = s;
    }
}

template <typename T>
__device__ void bias_grad(const T* __restrict__ dy, T* __restrict__ db, int n, int o, int plane) {
    __shared__ T scratch[jnorm::kWarpSize];
    const int ch = blockIdx.x;
    T s = T(0);
    for (int img = 0; img < n; ++img) {
        const T* row = dy + (static_cast<long long>(img) * o + ch) * plane;
        for (int i = threadIdx.x; i < plane; i += blockDim.x) {
            s += row[i];
        }
    }
    s = jnorm::block_reduce_sum(s, scratch);
    if (threadIdx.x == 0) {
        db[ch] = s;
    }
}

}  // namespace conv2d

extern "C" {

__global__ void __launch_bounds__(jnorm::igemm::kThreads)
conv2d_fwd_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
               float* __restrict__ y, const jnorm::conv::ConvParams p) {
    jnorm::conv::forward<float, false>(x, w, nullptr, bias, y, p);
}
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
conv2d_fwd_f64(const double* __restrict__ x, const double* __restrict__ w, const double* __restrict__ bias,
               double* __restrict__ y, const jnorm::conv::ConvParams p) {
    jnorm::conv::forward<double, false>(x, w, nullptr, bias, y, p);
}

__global__ void __launch_bounds__(jnorm::igemm::kThreads)
conv2d_bwd_input_f32(const float* __restrict__ dy, const float* __restrict__ w, float* __restrict__ dx,
                     const jnorm::conv::ConvParams p) {
    jnorm::conv::backward_input<float, false>(dy, w, nullptr, dx, p, nullptr);
}
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
conv2d_bwd_input_f64(const double* __restrict__ dy, const double* __restrict__ w, double* __restrict__ dx,
                     const jnorm::conv::ConvParams p) {
    jnorm::conv::backward_input<double, false>(dy, w, nullptr, dx, p, nullptr);
}

__global__ void __launch_bounds__(jnorm::igemm::kThreads)
conv2d_bwd_weight_f32(const float* __restrict__ dy, const float* __restrict__ x, float* __restrict__ out,
                      const jnorm::conv::ConvParams p) {
    jnorm::conv::backward_weight<float>(dy, x, out, p);
}
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
conv2d_bwd_weight_f64(const double* __restrict__ dy, const double* __restrict__ x, double* __restrict__ out,
                      const jnorm::conv::ConvParams p) {
    jnorm::conv::backward_weight<double>(dy, x, out, p);
}

__global__ void conv2d_wgrad_reduce_f32(const float* __restrict__ partial, float* __restrict__ dw, int splits, int count) {
    conv2d::wgrad_reduce(partial, dw, splits, count);
}
__global__ void conv2d_wgrad_reduce_f64(const double* __restrict__ partial, double* __restrict__ dw, int splits, int count) {
    conv2d::wgrad_reduce(partial, dw, splits, count);
}

__global__ void conv2d_bias_grad_f32(const float* __restrict__ dy, float* __restrict__ db, int n, int o, int plane) {
    conv2d::bias_grad(dy, db, n, o, plane);
}
__global__ void conv2d_bias_grad_f64(const double* __restrict__ dy, double* __restrict__ db, int n, int o, int plane) {
    conv2d::bias_grad(dy, db, n, o, plane);
}

}  // extern "C"
