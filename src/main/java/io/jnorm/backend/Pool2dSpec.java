package io.jnorm.backend;

/** Window size, stride and padding per spatial axis of a 2-D pooling; validated by the op. */
public record Pool2dSpec(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {

    /** floor((h + 2 padH - kernelH) / strideH) + 1 (PyTorch's floor mode). */
    public int outH(int h) {
        return (int) Math.floorDiv((long) h + 2L * padH - kernelH, strideH) + 1;
    }

    /** floor((w + 2 padW - kernelW) / strideW) + 1. */
    public int outW(int w) {
        return (int) Math.floorDiv((long) w + 2L * padW - kernelW, strideW) + 1;
    }
}
