package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * The parts of Batch-Channel Normalization (spec-ws-bcn-sn.md §2) that {@link NormKernels} does
 * not already cover: the EstBN estimate update and the mapping between BCN's per-GROUP affine
 * (G values) and the per-channel affine the normalize kernels take. Every tensor holds C or G
 * values in one dtype on one device; each kernel is one small launch on a GPU.
 */
public interface BatchChannelNormKernels {

    /**
     * EstBN's estimate update (no gradient), in place, from the batch mean m and biased batch
     * variance v of each channel:
     * <pre>
     *   s        = v + (m − estMean_old)²        the second moment about the OLD estimate
     *   estMean ← (1 − rate)·estMean + rate·m
     *   estVar  ← (1 − rate)·estVar  + rate·s
     * </pre>
     */
    void updateEstimates(Tensor batchMean, Tensor batchVar, double rate, Tensor estMean, Tensor estVar);

    /**
     * EstBN's training forward in one call: the per-channel {@link NormKernels#moments} of x into
     * {@code batchMean} / {@code batchVar}, {@link #updateEstimates} with them, then
     * {@link NormKernels#normalize} of x with the UPDATED estimates into y. Same results as those
     * three calls, which is what this default does; a backend that can fuse them overrides it
     * (the cuda backend reads x once in one launch when a channel fits on chip).
     *
     * @param layout   {@link NormLayout#perChannel} of x
     * @param weight   (C) or null (1)
     * @param bias     (C) or null (0)
     * @param batchMean output, C batch means
     * @param batchVar  output, C biased batch variances
     * @param estMean  (C) updated in place
     * @param estVar   (C) updated in place
     * @param y        output, x's size; may not alias x
     */
    default void estimatedForward(Tensor x, NormLayout layout, double rate, double eps, Tensor weight, Tensor bias,
                                  Tensor batchMean, Tensor batchVar, Tensor estMean, Tensor estVar, Tensor y) {
        NormKernels nk = x.backend().norms();
        nk.moments(x, layout, batchMean, batchVar);
        updateEstimates(batchMean, batchVar, rate, estMean, estVar);
        nk.normalize(x, layout, estMean, estVar, eps, weight, bias, y);
    }

    /** perChannel[c] = perGroup[c / (C/G)], with C = perChannel.numel(), G = perGroup.numel(). */
    void expandGroups(Tensor perGroup, Tensor perChannel);

    /** perGroup[g] = Σ over the C/G channels c of group g of perChannel[c]. */
    void sumGroups(Tensor perChannel, Tensor perGroup);
}
