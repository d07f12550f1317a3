package io.jnorm.backend;

/**
 * The geometry of a 2-D convolution besides its tensors: stride, zero padding and dilation per
 * spatial axis, and the number of channel groups. Ops validate it before a kernel sees it.
 */
public record Conv2dSpec(int strideH, int strideW, int padH, int padW, int dilationH, int dilationW, int groups) {

    /** Output height for an input height and kernel height (may be <= 0 for a bad geometry). */
    public int outH(int h, int kh) {
        return outSize(h, kh, strideH, padH, dilationH);
    }

    /** Output width for an input width and kernel width (may be <= 0 for a bad geometry). */
    public int outW(int w, int kw) {
        return outSize(w, kw, strideW, padW, dilationW);
    }

    /** floor((in + 2 pad - dilation (k - 1) - 1) / stride) + 1, as in PyTorch. */
    static int outSize(int in, int k, int stride, int pad, int dilation) {
        long span = (long) in + 2L * pad - (long) dilation * (k - 1) - 1;
        return (int) Math.floorDiv(span, stride) + 1;
    }
}
