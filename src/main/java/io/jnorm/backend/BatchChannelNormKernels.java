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

    /** perChannel[c] = perGroup[c / (C/G)], with C = perChannel.numel(), G = perGroup.numel(). */
    void expandGroups(Tensor perGroup, Tensor perChannel);

    /** perGroup[g] = Σ over the C/G channels c of group g of perChannel[c]. */
    void sumGroups(Tensor perChannel, Tensor perGroup);
}
