// Batch-Channel Normalization's own kernels (spec-ws-bcn-sn.md §2): EstBN's estimate update and
// the mapping between BCN's per-GROUP affine (G values) and the per-channel affine the shared
// normalize kernels take (norm.cu runs the per-channel and per-group statistics, normalize and
// backward). The Java side is io.jnorm.backend.cuda.CudaBatchChannelNorm (typed
// launchers mirror these entries); the CPU reference with the same names is CpuBatchChannelNorm.
//
// These kernels touch C or G values: one thread per channel or group, grid-stride. Arithmetic
// is in double for both dtypes, rounded once on store as the reference does; sum_groups adds a
// group's channels in channel order, so the result does not depend on the launch geometry.

#include "common/stat_updates.cuh"

namespace {

__device__ __forceinline__ int first_thread() {
    return static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
}

__device__ __forceinline__ int thread_stride() {
    return static_cast<int>(gridDim.x * blockDim.x);
}

// The estimate update itself is in common/stat_updates.cuh, shared with norm.cu's norm_fwd_est.
template <typename T>
__device__ void update_estimates(int C, const T* __restrict__ bmean, const T* __restrict__ bvar, double rate,
                                 T* __restrict__ est_mean, T* __restrict__ est_var) {
    for (int c = first_thread(); c < C; c += thread_stride()) {
        jnorm::estimate_update<T>(bmean[c], bvar[c], rate, est_mean[c], est_var[c]);
    }
}

// per_channel[c] = per_group[c / (C/G)].
template <typename T>
__device__ void expand_groups(int C, int G, const T* __restrict__ per_group, T* __restrict__ per_channel) {
    const int size = C / G;
    for (int c = first_thread(); c < C; c += thread_stride()) {
        per_channel[c] = per_group[c / size];
    }
}

// per_group[g] = Σ_{c in g} per_channel[c], in channel order.
template <typename T>
__device__ void sum_groups(int C, int G, const T* __restrict__ per_channel, T* __restrict__ per_group) {
    const int size = C / G;
    for (int g = first_thread(); g < G; g += thread_stride()) {
        double s = 0.0;
        for (int j = 0; j < size; ++j) {
            s += per_channel[g * size + j];
        }
        per_group[g] = static_cast<T>(s);
    }
}

}  // namespace

#define BCN_ENTRIES(T, SUF)                                                                                     \
    extern "C" __global__ void bcn_update_estimates_##SUF(int C, const T* bmean, const T* bvar, double rate,   \
                                                          T* est_mean, T* est_var) {                            \
        update_estimates(C, bmean, bvar, rate, est_mean, est_var);                                              \
    }                                                                                                           \
    extern "C" __global__ void bcn_expand_groups_##SUF(int C, int G, const T* per_group, T* per_channel) {     \
        expand_groups(C, G, per_group, per_channel);                                                            \
    }                                                                                                           \
    extern "C" __global__ void bcn_sum_groups_##SUF(int C, int G, const T* per_channel, T* per_group) {        \
        sum_groups(C, G, per_channel, per_group);                                                               \
    }

BCN_ENTRIES(float, f32)
BCN_ENTRIES(double, f64)
