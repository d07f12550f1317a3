package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * Kernels of Switchable Normalization (SN) for NCHW input, as the official SwitchNorm2d computes
 * it (spec-ws-bcn-sn.md §3). L = H·W must be at least 2 (the op checks it).
 *
 * <p>Statistics live in {@link Stats}: the IN statistics with the <em>unbiased</em> variance,
 * the LN and BN statistics derived from them. The BN pair is either this batch's (training) or
 * the running statistics (evaluation, constants), or absent when BN is not mixed. Mixing weights
 * are passed as logits; kernels take the softmax themselves (2 or 3 values).
 *
 * <p>All tensors of one call share x's dtype and device; outputs are pre-allocated.
 */
public interface SwitchableNormKernels {

    /**
     * The statistics SN mixes.
     *
     * @param meanIn [N, C] per-instance mean
     * @param varIn  [N, C] per-instance variance, unbiased (divides by L - 1)
     * @param meanLn [N] mean over C of meanIn
     * @param varLn  [N] mean over C of (varIn + meanIn²) minus meanLn²
     * @param meanBn [C] batch mean (or running mean), null when BN is not mixed
     * @param varBn  [C] derived batch variance (or running variance), null when BN is not mixed
     */
    record Stats(Tensor meanIn, Tensor varIn, Tensor meanLn, Tensor varLn, Tensor meanBn, Tensor varBn) {
        /** Number of mixed terms: 3 with BN, 2 without. */
        public int terms() {
            return meanBn == null ? 2 : 3;
        }
    }

    /**
     * Fills {@code out}'s tensors from x [N, C, H, W]: IN statistics, LN derived from them, and,
     * when {@code out.meanBn()} is not null, BN derived from them (mean over N of meanIn, mean
     * over N of (varIn + meanIn²) minus meanBn²).
     */
    default void statistics(Tensor x, Stats out) {
        statistics(x, out, null, null, 0);
    }

    /**
     * {@link #statistics(Tensor, Stats)} and, when {@code runningMean} is not null (then
     * {@code out.meanBn()} is not null either), the official moving average of the running
     * statistics in place, in the same launch: {@code R ← k·R + (1 − k)·batch} for the BN mean
     * and variance, with {@code k} and {@code 1 − k} rounded to the dtype and each product and
     * the sum rounded to the dtype (the rounding of separate multiply and add ops).
     *
     * @param runningMean [C] running mean, read and overwritten, or null for no update
     * @param runningVar  [C] running variance, read and overwritten, or null
     * @param keep        the keep factor k in [0, 1] (ignored without an update)
     */
    void statistics(Tensor x, Stats out, Tensor runningMean, Tensor runningVar, double keep);

    /**
     * y = gamma·(x - mean)/sqrt(var + eps) + beta with mean = Σ_k softmax(meanLogits)_k·mean_k and
     * var = Σ_k softmax(varLogits)_k·var_k over the terms (IN, LN[, BN]).
     *
     * @param gamma [C]; beta [C]; meanLogits, varLogits [stats.terms()]
     * @param y     [N, C, H, W] output
     * @param mean  [N, C] output: the mixed mean (saved for backward)
     * @param rstd  [N, C] output: 1/sqrt(mixed var + eps) (saved for backward)
     */
    void forward(Tensor x, Stats stats, Tensor meanLogits, Tensor varLogits, Tensor gamma, Tensor beta,
                 double eps, Tensor y, Tensor mean, Tensor rstd);

    /**
     * First backward pass, reductions over the L positions with g = gamma·dy and
     * x̂ = (x - mean)·rstd: a = -rstd·Σ_l g (gradient into the mixed mean), b = -rstd²/2·Σ_l g·x̂
     * (gradient into the mixed variance), dGamma = Σ_{n,l} dy·x̂, dBeta = Σ_{n,l} dy.
     *
     * @param a [N, C] output; b [N, C] output; dGamma, dBeta [C] outputs, each null when not needed
     */
    void backwardReduce(Tensor x, Tensor dy, Tensor mean, Tensor rstd, Tensor gamma,
                        Tensor a, Tensor b, Tensor dGamma, Tensor dBeta);

    /**
     * Gradients of the two logit vectors: u_k = Σ_{n,c} a·mean_k, dλ_j = w_j·(u_j - Σ_k w_k·u_k),
     * and the same with b, var_k and v for the variance logits.
     *
     * @param dMeanLogits, dVarLogits [stats.terms()] outputs, each null when not needed
     */
    void backwardLogits(Tensor a, Tensor b, Stats stats, Tensor meanLogits, Tensor varLogits,
                        Tensor dMeanLogits, Tensor dVarLogits);

    /**
     * dx = gamma·dy·rstd + Gμ/L + Gσ·2(x - meanIn)/(L - 1) with the gradients Gμ, Gσ into the IN
     * statistics collected from the mixed mean and variance through LN and, when
     * {@code bnFromBatch}, through BN (spec-ws-bcn-sn.md §3.6).
     *
     * @param bnFromBatch true when stats' BN pair was computed from this batch (training), false
     *                    when it is absent or holds running statistics (constants)
     * @param dx          [N, C, H, W] output
     */
    void backwardInput(Tensor x, Tensor dy, Tensor a, Tensor b, Stats stats, Tensor rstd, Tensor gamma,
                       Tensor meanLogits, Tensor varLogits, boolean bnFromBatch, Tensor dx);
}
