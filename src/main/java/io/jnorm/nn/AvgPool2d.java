package io.jnorm.nn;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;

/**
 * Average pooling over 2-D windows of [N, C, H, W], as {@code torch.nn.AvgPool2d} with its
 * defaults (floor mode, {@code count_include_pad=True}): every window divides by kernelH * kernelW.
 * No parameters.
 */
public final class AvgPool2d extends Module {
    private final Pool2dWindow window;

    /** Square window, stride equal to the kernel, no padding. */
    public AvgPool2d(int kernel) {
        this(new int[] {kernel}, null, new int[] {0});
    }

    /** Square window with the same stride and padding on both axes. */
    public AvgPool2d(int kernel, int stride, int padding) {
        this(new int[] {kernel}, new int[] {stride}, new int[] {padding});
    }

    /**
     * @param kernel  (height, width) or one value for both
     * @param stride  (height, width), one value, or null for the kernel size
     * @param padding (height, width) or one value, at most half the kernel
     */
    public AvgPool2d(int[] kernel, int[] stride, int[] padding) {
        this.window = Pool2dWindow.of("AvgPool2d", kernel, stride, padding);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("AvgPool2d(" + window + "): input must be [N, C, H, W], got shape "
                    + x.shape());
        }
        return Ops.avgPool2d(x, window.kernel(), window.stride(), window.padding());
    }

    @Override
    protected String extraRepr() {
        return window.toString();
    }
}
