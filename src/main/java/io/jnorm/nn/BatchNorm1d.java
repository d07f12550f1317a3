package io.jnorm.nn;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * Batch normalization over (N, C) or (N, C, L), PyTorch's {@code nn.BatchNorm1d}: per-channel
 * statistics over N (or N·L). Defaults eps 1e-5, momentum 0.1, affine, tracked running
 * statistics. Mode logic and state: {@link BatchNormBase}, {@link NormBase}.
 */
public final class BatchNorm1d extends BatchNormBase {

    /** PyTorch's defaults in float32 on the CPU. */
    public BatchNorm1d(int numFeatures) {
        this(numFeatures, DType.F32, Device.CPU);
    }

    /** PyTorch's defaults in the given dtype and device. */
    public BatchNorm1d(int numFeatures, DType dtype, Device device) {
        this(numFeatures, 1e-5, 0.1, true, true, dtype, device);
    }

    /**
     * @param momentum weight of the new batch statistics, or null for a cumulative average
     */
    public BatchNorm1d(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats,
                       DType dtype, Device device) {
        super(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device);
    }

    @Override
    protected void checkRank(Tensor x) {
        if (x.rank() != 2 && x.rank() != 3) {
            throw new IllegalArgumentException(who() + ": expected 2D (N, C) or 3D (N, C, L) input, got " + x.rank()
                    + "D input of shape " + x.shape());
        }
    }
}
