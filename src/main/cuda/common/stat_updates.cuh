// Per-channel formulas of the layers built on the shared norm kernels, on one channel's values:
// EstBN's estimate update (Batch-Channel Norm, spec-ws-bcn-sn.md §2.2) and Batch Renorm's
// correction, folded affine and moving-statistics update (spec-brn-ubn-baselines.md §2.1).
//
// One definition for both callers: the small per-channel kernels (batch_channel_norm.cu,
// batch_renorm.cu: one thread per channel) and the fused forwards of norm.cu (the thread that
// finished a channel's statistics applies them before the block normalizes). Arithmetic is in
// double and each stored value is rounded once, like the CPU reference, so both paths and the
// reference agree on the clip boundaries.
//
// NaN policy: clip keeps NaN (a broken channel must show up, not be clipped to a bound);
// fmin / fmax alone would drop it.
#pragma once

namespace jnorm {

__device__ __forceinline__ double clip_keep_nan(double v, double lo, double hi) {
    return isnan(v) ? v : fmin(fmax(v, lo), hi);
}

// s = v + (m − μ̂_old)², μ̂ ← (1 − r)·μ̂ + r·m, σ̂² ← (1 − r)·σ̂² + r·s, in place. The second
// moment about the old estimate is var + shift², two non-negative terms, so nothing cancels.
template <typename T>
__device__ __forceinline__ void estimate_update(double m, double v, double rate, T& est_mean, T& est_var) {
    const double mu = est_mean;
    const double shift = m - mu;
    const double s = v + shift * shift;
    est_mean = static_cast<T>((1.0 - rate) * mu + rate * m);
    est_var = static_cast<T>((1.0 - rate) * static_cast<double>(est_var) + rate * s);
}

// r = clip(σ_B/σ', 1/rmax, rmax), d = clip((μ_B − μ)/σ', −dmax, dmax), σ' = max(σ, sqrt(eps)),
// σ_B = sqrt(var_B + eps).
template <typename T>
__device__ __forceinline__ void renorm_correction(double bmean, double bvar, double mmean, double mstd, double eps,
                                                  double rmax, double dmax, T& r, T& d) {
    const double sigma = fmax(mstd, sqrt(eps));
    // fmax drops a NaN σ in favour of the floor; keep it so the channel stays visibly broken.
    const double s = isnan(mstd) ? mstd : sigma;
    r = static_cast<T>(clip_keep_nan(sqrt(bvar + eps) / s, 1.0 / rmax, rmax));
    d = static_cast<T>(clip_keep_nan((bmean - mmean) / s, -dmax, dmax));
}

// scale = γ·r, shift = γ·d + β (γ = 1, β = 0 for an absent affine).
template <typename T>
__device__ __forceinline__ void renorm_fold(double gamma, double beta, double r, double d, T& scale, T& shift) {
    scale = static_cast<T>(gamma * r);
    shift = static_cast<T>(gamma * d + beta);
}

// μ ← (1 − m)·μ + m·μ_B, σ ← (1 − m)·σ + m·sqrt(var_B + eps), in place.
template <typename T>
__device__ __forceinline__ void renorm_update_moving(double bmean, double bvar, double eps, double momentum,
                                                     T& mmean, T& mstd) {
    mmean = static_cast<T>((1.0 - momentum) * static_cast<double>(mmean) + momentum * bmean);
    mstd = static_cast<T>((1.0 - momentum) * static_cast<double>(mstd) + momentum * sqrt(bvar + eps));
}

}  // namespace jnorm
