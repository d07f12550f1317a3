package io.jnorm.backend;

import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * The per-channel parts of Batch Renormalization (spec-brn-ubn-baselines.md §2.1). The
 * per-element work (moments, normalize, backward) is {@link NormKernels} under a per-channel
 * layout; these kernels touch C values each, so a GPU runs each as one small launch.
 *
 * <p>Every tensor here holds C values (one per channel) in x's dtype, on x's device. The moving
 * standard deviation σ is floored at sqrt(eps) wherever it divides (as TensorFlow does); the
 * floor never binds for σ grown from its initial 1 by this layer's updates, since every batch σ_B
 * is at least sqrt(eps).
 */
public interface BatchRenormKernels {

    /**
     * The renorm correction from the batch moments and the moving statistics BEFORE this step's
     * update, with σ' = max(σ, sqrt(eps)) and σ_B = sqrt(batchVar + eps):
     * {@code r = clip(σ_B/σ', 1/rmax, rmax)}, {@code d = clip((μ_B − μ)/σ', −dmax, dmax)}.
     */
    void correction(Tensor batchMean, Tensor batchVar, Tensor movingMean, Tensor movingStd, double eps,
                    double rmax, double dmax, Tensor r, Tensor d);

    /**
     * The normalize kernel's per-channel affine that makes it compute γ(x̄·r + d) + β:
     * {@code scale = γ·r}, {@code shift = γ·d + β} (null γ means 1, null β means 0).
     */
    void foldAffine(Tensor gamma, Tensor beta, Tensor r, Tensor d, Tensor scale, Tensor shift);

    /** dγ = r·Σ dy·x̄ + d·Σ dy, from the two sums {@link NormKernels#normalizeBackward} gives. */
    void gammaGrad(Tensor sumDyXhat, Tensor sumDy, Tensor r, Tensor d, Tensor dgamma);

    /**
     * Moving statistics update in place, PyTorch's momentum convention:
     * {@code μ ← (1 − m)·μ + m·μ_B}, {@code σ ← (1 − m)·σ + m·sqrt(batchVar + eps)} (a moving
     * average of the standard deviation, not of the variance, as in the paper).
     */
    void updateMoving(Tensor batchMean, Tensor batchVar, double eps, double momentum, Tensor movingMean,
                      Tensor movingStd);

    /**
     * A whole training forward in one call, with {@code layout} = {@link NormLayout#perChannel} of x:
     * <pre>
     *   moments(x)                        -&gt; batchMean, batchVar
     *   correction(..., movingMean, movingStd as on entry) -&gt; r, d
     *   foldAffine(gamma, beta, r, d)     -&gt; scale, shift
     *   normalize(x, batchMean, batchVar, eps, scale, shift) -&gt; y
     *   updateMoving(batchMean, batchVar) -&gt; movingMean, movingStd in place
     * </pre>
     * Same results as those calls, which is what this default does; a backend that can fuse them
     * overrides it (the cuda backend reads x once in one launch when a channel fits on chip).
     * {@code scale} is returned because the backward takes it as normalizeBackward's weight.
     */
    default void trainForward(Tensor x, NormLayout layout, Tensor gamma, Tensor beta, Tensor movingMean,
                              Tensor movingStd, double eps, double rmax, double dmax, double momentum,
                              Tensor batchMean, Tensor batchVar, Tensor r, Tensor d, Tensor scale, Tensor y) {
        NormKernels nk = x.backend().norms();
        nk.moments(x, layout, batchMean, batchVar);
        correction(batchMean, batchVar, movingMean, movingStd, eps, rmax, dmax, r, d);
        try (Tensor shift = Tensor.zeros(Shape.of(layout.c()), x.dtype(), x.device())) {
            foldAffine(gamma, beta, r, d, scale, shift);
            nk.normalize(x, layout, batchMean, batchVar, eps, scale, shift, y);
        }
        updateMoving(batchMean, batchVar, eps, momentum, movingMean, movingStd);
    }

    /**
     * {@code var = max(σ² − eps, 0)}: the variance for which the normalize kernel's
     * 1/sqrt(var + eps) is 1/max(σ, sqrt(eps)), so inference runs on {@link NormKernels}.
     */
    void movingVariance(Tensor movingStd, double eps, Tensor var);
}
