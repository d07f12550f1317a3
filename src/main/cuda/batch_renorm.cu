// Batch Renormalization's per-channel kernels (spec-brn-ubn-baselines.md §2.1). The per-element
// work (batch moments, normalize, backward) runs on the shared norm kernels (norm.cu) under a
// per-channel layout; what is left here touches C values per call: the correction r, d, the
// folded affine the normalize kernel applies, dγ, the moving-statistics update and the moving
// variance inference normalizes with. The Java side is io.jnorm.backend.cuda.CudaBatchRenorm
// (its typed launchers mirror these entries); the CPU reference with the same names is CpuBatchRenorm.
//
// Every kernel parallelizes over channels, one thread per channel, grid-stride: C values are
// far too few for anything else to matter, and each kernel reads and writes each value once.
// Arithmetic is in double for both dtypes and rounds once on store, like the CPU reference, so
// the clip boundaries (1/rmax, ±dmax) land on exactly the same values; the cost is a handful of
// double operations per channel.
//
// The per-channel formulas (and the NaN policy) are in common/stat_updates.cuh, shared with the
// fused forward of norm.cu (norm_fwd_renorm).

#include "common/stat_updates.cuh"

namespace {

__device__ __forceinline__ int first_thread() {
    return static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
}

__device__ __forceinline__ int thread_stride() {
    return static_cast<int>(gridDim.x * blockDim.x);
}

// r = clip(σ_B/σ', 1/rmax, rmax), d = clip((μ_B − μ)/σ', −dmax, dmax), σ' = max(σ, sqrt(eps)),
// σ_B = sqrt(var_B + eps).
template <typename T>
__device__ void correction(int C, const T* __restrict__ bmean, const T* __restrict__ bvar,
                           const T* __restrict__ mmean, const T* __restrict__ mstd, double eps, double rmax,
                           double dmax, T* __restrict__ r, T* __restrict__ d) {
    for (int c = first_thread(); c < C; c += thread_stride()) {
        jnorm::renorm_correction<T>(bmean[c], bvar[c], mmean[c], mstd[c], eps, rmax, dmax, r[c], d[c]);
    }
}

template <typename T>
__device__ void fold_affine(int C, const T* __restrict__ gamma, const T* __restrict__ beta,
                            const T* __restrict__ r, const T* __restrict__ d, T* __restrict__ scale,
                            T* __restrict__ shift) {
    for (int c = first_thread(); c < C; c += thread_stride()) {
        jnorm::renorm_fold<T>(gamma != nullptr ? static_cast<double>(gamma[c]) : 1.0,
                              beta != nullptr ? static_cast<double>(beta[c]) : 0.0, r[c], d[c], scale[c], shift[c]);
    }
}

// dγ = r·Σdy·x̄ + d·Σdy.
template <typename T>
__device__ void gamma_grad(int C, const T* __restrict__ sum_dy_xhat, const T* __restrict__ sum_dy,
                           const T* __restrict__ r, const T* __restrict__ d, T* __restrict__ dgamma) {
    for (int c = first_thread(); c < C; c += thread_stride()) {
        dgamma[c] = static_cast<T>(static_cast<double>(r[c]) * sum_dy_xhat[c] + static_cast<double>(d[c]) * sum_dy[c]);
    }
}

template <typename T>
__device__ void update_moving(int C, const T* __restrict__ bmean, const T* __restrict__ bvar, double eps,
                              double momentum, T* __restrict__ mmean, T* __restrict__ mstd) {
    for (int c = first_thread(); c < C; c += thread_stride()) {
        jnorm::renorm_update_moving<T>(bmean[c], bvar[c], eps, momentum, mmean[c], mstd[c]);
    }
}

// var = max(σ² − eps, 0): normalize's 1/sqrt(var + eps) is then 1/max(σ, sqrt(eps)).
template <typename T>
__device__ void moving_variance(int C, const T* __restrict__ mstd, double eps, T* __restrict__ var) {
    for (int c = first_thread(); c < C; c += thread_stride()) {
        const double s = mstd[c];
        const double v = s * s - eps;
        // v > 0 ? v : 0 written out so a NaN σ gives a NaN variance (fmax would give 0).
        var[c] = static_cast<T>(isnan(v) ? v : fmax(v, 0.0));
    }
}

}  // namespace

#define BRN_ENTRIES(T, SUF)                                                                                      \
    extern "C" __global__ void brn_correction_##SUF(int C, const T* bmean, const T* bvar, const T* mmean,        \
                                                    const T* mstd, double eps, double rmax, double dmax, T* r,   \
                                                    T* d) {                                                      \
        correction(C, bmean, bvar, mmean, mstd, eps, rmax, dmax, r, d);                                          \
    }                                                                                                            \
    extern "C" __global__ void brn_fold_affine_##SUF(int C, const T* gamma, const T* beta, const T* r,          \
                                                     const T* d, T* scale, T* shift) {                           \
        fold_affine(C, gamma, beta, r, d, scale, shift);                                                         \
    }                                                                                                            \
    extern "C" __global__ void brn_gamma_grad_##SUF(int C, const T* sum_dy_xhat, const T* sum_dy, const T* r,   \
                                                    const T* d, T* dgamma) {                                     \
        gamma_grad(C, sum_dy_xhat, sum_dy, r, d, dgamma);                                                        \
    }                                                                                                            \
    extern "C" __global__ void brn_update_moving_##SUF(int C, const T* bmean, const T* bvar, double eps,        \
                                                       double momentum, T* mmean, T* mstd) {                     \
        update_moving(C, bmean, bvar, eps, momentum, mmean, mstd);                                               \
    }                                                                                                            \
    extern "C" __global__ void brn_moving_variance_##SUF(int C, const T* mstd, double eps, T* var) {            \
        moving_variance(C, mstd, eps, var);                                                                      \
    }

BRN_ENTRIES(float, f32)
BRN_ENTRIES(double, f64)
