// Weight-standardized convolution, fused: the standardized weight
//     What[o, j] = (W[o, j] - mean_o) * scale_o,   scale_o = 1 / (sqrt(var_o + eps_in) + eps_out),
// var_o over the fan-in I = C/g * KH * KW with divisor M = I - 1 (unbiased) or I, is never
// written to global memory (spec-ws-bcn-sn.md §1).
//
// Forward = 2 launches: ws_stats (mean_o, scale_o into a [2, O] buffer) then ws_conv2d_fwd.
// Backward: ws_conv2d_bwd_input (dx, What applied on the fly), conv2d_bwd_weight from
// conv2d.ptx (G = dL/dWhat as K-split partials: the weight gradient of a convolution does not
// depend on the weight) and ws_bwd_weight, which sums the partials and applies WS's closed form
// (spec §1.4) in the same pass; the bias gradient is conv2d_bias_grad.
//
// ws_stats: one block per output channel (a weight row is contiguous: coalesced); two passes
// over the row (mean, then the centred sum of squares, which avoids the cancellation of
// E[W^2] - mean^2); rows are a few thousand elements, so the second pass hits L1/L2.
//
// ws_conv2d_fwd: the implicit-GEMM forward of conv_igemm.cuh whose weight loader keeps its two
// rows' (mean, scale) in registers and standardizes each element as it stages it: one extra
// subtract and multiply per staged weight, i.e. 1/64 of an FMA per output FMA.
//
// ws_conv2d_bwd_input: the implicit-GEMM input gradient; its weight operand runs along output
// channels, so the group's (mean, scale) pairs are put in dynamic shared memory first.
//
// ws_standardize: What = standardize(W) written out, for the stand-alone op (a weight that is
// used by something other than one convolution). One block per output channel.
//
// ws_bwd_weight: dW from G (the sum of `splits` partial gradients [splits, O, I]):
//     dW = (G - mean(G)) * scale - What * <G, What> / (M * r),    r = sqrt(var + eps_in)
// (second term 0 when r = 0). One block per output channel: recompute the row statistics,
// pass 1 writes G into dW while reducing sum(G) and <G, What>, pass 2 rewrites dW in place
// (each thread rereads only the elements it wrote, so no extra barrier is needed).

#include "common/conv_igemm.cuh"
#include "common/reduce.cuh"

namespace ws {

// Row statistics of one output channel, every thread of the block gets them.
template <typename T>
struct RowStats {
    T mean;
    T r;      // sqrt(var + eps_in)
    T scale;  // 1 / (r + eps_out)
};

template <typename T>
__device__ __forceinline__ RowStats<T> row_stats(const T* __restrict__ row, int fan_in, T eps_in, T eps_out,
                                                 int unbiased, T* scratch) {
    T s = T(0);
    for (int j = threadIdx.x; j < fan_in; j += blockDim.x) {
        s += row[j];
    }
    const T mean = jnorm::block_reduce_sum(s, scratch) / T(fan_in);
    T q = T(0);
    for (int j = threadIdx.x; j < fan_in; j += blockDim.x) {
        const T d = row[j] - mean;
        q = fma(d, d, q);
    }
    const T var = jnorm::block_reduce_sum(q, scratch) / T(unbiased ? fan_in - 1 : fan_in);
    const T r = sqrt(var + eps_in);
    return RowStats<T>{mean, r, T(1) / (r + eps_out)};
}

// stats[o] = mean_o, stats[O + o] = scale_o. Grid O, block a multiple of 32.
template <typename T>
__device__ void stats(const T* __restrict__ w, T* __restrict__ out, int o_count, int fan_in, T eps_in, T eps_out,
                      int unbiased) {
    __shared__ T scratch[jnorm::kWarpSize];
    const int o = blockIdx.x;
    const RowStats<T> st = row_stats(w + static_cast<long long>(o) * fan_in, fan_in, eps_in, eps_out, unbiased, scratch);
    if (threadIdx.x == 0) {
        out[o] = st.mean;
        out[o_count + o] = st.scale;
    }
}

template <typename T>
__device__ void standardize(const T* __restrict__ w, T* __restrict__ what, int fan_in, T eps_in, T eps_out,
                            int unbiased) {
    __shared__ T scratch[jnorm::kWarpSize];
    const long long base = static_cast<long long>(blockIdx.x) * fan_in;
    const RowStats<T> st = row_stats(w + base, fan_in, eps_in, eps_out, unbiased, scratch);
    for (int j = threadIdx.x; j < fan_in; j += blockDim.x) {
        what[base + j] = (w[base + j] - st.mean) * st.scale;
    }
}

template <typename T>
__device__ void bwd_weight(const T* __restrict__ w, const T* __restrict__ partial, int splits, T* __restrict__ dw,
                           int o_count, int fan_in, T eps_in, T eps_out, int unbiased) {
    __shared__ T scratch[jnorm::kWarpSize];
    const long long base = static_cast<long long>(blockIdx.x) * fan_in;
    const long long split_stride = static_cast<long long>(o_count) * fan_in;
    const RowStats<T> st = row_stats(w + base, fan_in, eps_in, eps_out, unbiased, scratch);

    T sum_g = T(0);
    T dot = T(0);
    for (int j = threadIdx.x; j < fan_in; j += blockDim.x) {
        T g = partial[base + j];
        for (int s = 1; s < splits; ++s) {
            g += partial[s * split_stride + base + j];
        }
        dw[base + j] = g;
        sum_g += g;
        dot = fma(g, (w[base + j] - st.mean) * st.scale, dot);
    }
    sum_g = jnorm::block_reduce_sum(sum_g, scratch);
    dot = jnorm::block_reduce_sum(dot, scratch);
    const T mean_g = sum_g / T(fan_in);
    const T m = T(unbiased ? fan_in - 1 : fan_in);
    // A constant row with eps_in = 0 has r = 0 and What = 0: the term is 0/0, taken as 0 (spec §1.5).
    const T coef = st.r > T(0) ? dot / (m * st.r) : T(0);
    for (int j = threadIdx.x; j < fan_in; j += blockDim.x) {
        const T what = (w[base + j] - st.mean) * st.scale;
        dw[base + j] = (dw[base + j] - mean_g) * st.scale - what * coef;
    }
}

}  // namespace ws

extern "C" {

__global__ void ws_stats_f32(const float* __restrict__ w, float* __restrict__ out, int o_count, int fan_in,
                             float eps_in, float eps_out, int unbiased) {
    ws::stats(w, out, o_count, fan_in, eps_in, eps_out, unbiased);
}
__global__ void ws_stats_f64(const double* __restrict__ w, double* __restrict__ out, int o_count, int fan_in,
                             double eps_in, double eps_out, int unbiased) {
    ws::stats(w, out, o_count, fan_in, eps_in, eps_out, unbiased);
}

__global__ void ws_standardize_f32(const float* __restrict__ w, float* __restrict__ what, int fan_in, float eps_in,
                                   float eps_out, int unbiased) {
    ws::standardize(w, what, fan_in, eps_in, eps_out, unbiased);
}
__global__ void ws_standardize_f64(const double* __restrict__ w, double* __restrict__ what, int fan_in, double eps_in,
                                   double eps_out, int unbiased) {
    ws::standardize(w, what, fan_in, eps_in, eps_out, unbiased);
}

__global__ void ws_bwd_weight_f32(const float* __restrict__ w, const float* __restrict__ partial, int splits,
                                  float* __restrict__ dw, int o_count, int fan_in, float eps_in, float eps_out,
                                  int unbiased) {
    ws::bwd_weight(w, partial, splits, dw, o_count, fan_in, eps_in, eps_out, unbiased);
}
__global__ void ws_bwd_weight_f64(const double* __restrict__ w, const double* __restrict__ partial, int splits,
                                  double* __restrict__ dw, int o_count, int fan_in, double eps_in, double eps_out,
                                  int unbiased) {
    ws::bwd_weight(w, partial, splits, dw, o_count, fan_in, eps_in, eps_out, unbiased);
}

__global__ void __launch_bounds__(jnorm::igemm::kThreads)
ws_conv2d_fwd_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ stats,
                  const float* __restrict__ bias, float* __restrict__ y, const jnorm::conv::ConvParams p) {
    jnorm::conv::forward<float, true>(x, w, stats, bias, y, p);
}
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
ws_conv2d_fwd_f64(const double* __restrict__ x, const double* __restrict__ w, const double* __restrict__ stats,
                  const double* __restrict__ bias, double* __restrict__ y, const jnorm::conv::ConvParams p) {
    jnorm::conv::forward<double, true>(x, w, stats, bias, y, p);
}

// Dynamic shared memory: 2 * (O / groups) * sizeof(T) bytes.
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
ws_conv2d_bwd_input_f32(const float* __restrict__ dy, const float* __restrict__ w, const float* __restrict__ stats,
                        float* __restrict__ dx, const jnorm::conv::ConvParams p) {
    extern __shared__ float ws_stats_smem_f32[];
    jnorm::conv::backward_input<float, true>(dy, w, stats, dx, p, ws_stats_smem_f32);
}
__global__ void __launch_bounds__(jnorm::igemm::kThreads)
ws_conv2d_bwd_input_f64(const double* __restrict__ dy, const double* __restrict__ w, const double* __restrict__ stats,
                        double* __restrict__ dx, const jnorm::conv::ConvParams p) {
    extern __shared__ double ws_stats_smem_f64[];
    jnorm::conv::backward_input<double, true>(dy, w, stats, dx, p, ws_stats_smem_f64);
}

}  // extern "C"
