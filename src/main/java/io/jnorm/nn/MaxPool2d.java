package io.jnorm.nn;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;

/**
 * Max pooling over 2-D windows of [N, C, H, W], as {@code torch.nn.MaxPool2d} (floor mode,
 * no dilation): padding never wins a window, and the gradient goes to each window's first maximum.
 * No parameters.
 */
public final class MaxPool2d extends Module {
    private final Pool2dWindow window;

    /** Square window, stride equal to the kernel, no padding. */
    public MaxPool2d(int kernel) {
        this(new int[] {kernel}, null, new int[] {0});
    }

    /** Square window with the same stride and padding on both axes. */
    public MaxPool2d(int kernel, int stride, int padding) {
        this(new int[] {kernel}, new int[] {stride}, new int[] {padding});
    }

    /**
     * @param kernel  (height, width) or one value for both
     * @param stride  (height, width), one value, or null for the kernel size
     * @param padding (height, width) or one value, at most half the kernel
     */
    public MaxPool2d(int[] kernel, int[] stride, int[] padding) {
        this.window = Pool2dWindow.of("MaxPool2d", kernel, stride, padding);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException("MaxPool2d(" + window + "): input must be [N, C, H, W], got shape "
                    + x.shape());
        }
        return Ops.maxPool2d(x, window.kernel(), window.stride(), window.padding());
    }

    @Override
    protected String extraRepr() {
        return window.toString();
    }
}
