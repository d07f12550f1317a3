package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * 2-D pooling over NCHW tensors of one dtype: x and dx are [N, C, H, W], y and dy are
 * [N, C, OH, OW]. Windows start at (oh * strideH - padH, ow * strideW - padW).
 */
public interface PoolKernels {

    /** y = the maximum of each window; padding never wins (it acts as -infinity). */
    void maxPool2dForward(Tensor x, Pool2dSpec spec, Tensor y);

    /**
     * dx (overwritten) = dy routed to the argmax of each window, recomputed from x (so no index
     * tensor is stored): the first maximum in row-major window order wins a tie, a NaN wins
     * over numbers; overlapping windows add.
     */
    void maxPool2dBackward(Tensor x, Tensor dy, Pool2dSpec spec, Tensor dx);

    /** y = the sum of each window divided by kernelH * kernelW (padding counts, as PyTorch's default). */
    void avgPool2dForward(Tensor x, Pool2dSpec spec, Tensor y);

    /** dx (overwritten) = each dy spread evenly, dy / (kernelH * kernelW), over its window's real pixels. */
    void avgPool2dBackward(Tensor dy, Pool2dSpec spec, Tensor dx);
}
