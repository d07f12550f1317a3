package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * 2-D convolution (cross-correlation, as in PyTorch) on NCHW tensors of one dtype.
 * x is [N, C, H, W], w is [O, C / groups, KH, KW], y and dy are [N, O, OH, OW].
 * Output channel o belongs to group o / (O / groups) and reads the input channels of that group.
 */
public interface ConvKernels {

    /** y = conv(x, w) + bias broadcast over N, OH, OW; {@code bias} is [O] or null for none. */
    void conv2dForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, Tensor y);

    /** dx (overwritten, [N, C, H, W]) = the gradient of the convolution with respect to x. */
    void conv2dBackwardInput(Tensor dy, Tensor w, Conv2dSpec spec, Tensor dx);

    /** dw (overwritten, [O, C / groups, KH, KW]) = the gradient with respect to the weight. */
    void conv2dBackwardWeight(Tensor dy, Tensor x, Conv2dSpec spec, Tensor dw);
}
