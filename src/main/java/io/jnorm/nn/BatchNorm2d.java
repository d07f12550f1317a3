package io.jnorm.nn;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * Batch normalization over (N, C, H, W), PyTorch's {@code nn.BatchNorm2d}: per-channel statistics
 * over N·H·W. Defaults eps 1e-5, momentum 0.1, affine, tracked running statistics. Mode logic
 * and state: {@link BatchNormBase}, {@link NormBase}.
 */
public final class BatchNorm2d extends BatchNormBase {

    /** PyTorch's defaults in float32 on the CPU. */
    public BatchNorm2d(int numFeatures) {
        this(numFeatures, DType.F32, Device.CPU);
    }

    /** PyTorch's defaults in the given dtype and device. */
    public BatchNorm2d(int numFeatures, DType dtype, Device device) {
        this(numFeatures, 1e-5, 0.1, true, true, dtype, device);
    }

    /**
     * @param momentum weight of the new batch statistics, or null for a cumulative average
     */
    public BatchNorm2d(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats,
                       DType dtype, Device device) {
        super(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device);
    }

    @Override
    protected void checkRank(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(who() + ": expected 4D input (N, C, H, W), got " + x.rank()
                    + "D input of shape " + x.shape());
        }
    }
}
