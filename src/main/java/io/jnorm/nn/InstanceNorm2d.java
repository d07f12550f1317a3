package io.jnorm.nn;

import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.NormChecks;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * Instance normalization over (N, C, H, W) or unbatched (C, H, W), PyTorch's
 * {@code nn.InstanceNorm2d}: statistics per (n, c) over H·W. Defaults eps 1e-5, momentum 0.1,
 * and, unlike BatchNorm, affine OFF and running statistics OFF.
 *
 * <p>Instance statistics are used in training, and in eval when running statistics are not
 * tracked; they need H·W ≥ 2 (an error otherwise, in either mode). With tracked statistics,
 * training updates them with the batch average of the per-instance statistics (variance
 * unbiased per instance) and eval normalizes with them. As in PyTorch 1.13,
 * num_batches_tracked exists when tracking but is never incremented. Unlike PyTorch 1.13, a
 * channel count different from numFeatures is rejected even without affine or running state,
 * and a null momentum (which PyTorch cannot run) is rejected when tracking.
 */
public final class InstanceNorm2d extends NormBase {

    /** PyTorch's defaults (no affine, no running statistics) in float32 on the CPU. */
    public InstanceNorm2d(int numFeatures) {
        this(numFeatures, DType.F32, Device.CPU);
    }

    /** PyTorch's defaults in the given dtype and device. */
    public InstanceNorm2d(int numFeatures, DType dtype, Device device) {
        this(numFeatures, 1e-5, 0.1, false, false, dtype, device);
    }

    /**
     * @param momentum weight of the new statistics in the running average; must not be null
     *                 when trackRunningStats
     */
    public InstanceNorm2d(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats,
                          DType dtype, Device device) {
        super(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device);
        if (trackRunningStats && momentum == null) {
            throw new IllegalArgumentException(who() + ": momentum must be a number when trackRunningStats is on "
                    + "(instance norm has no cumulative-average mode)");
        }
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() == 3) {
            // Unbatched (C, H, W): a batch of one, as PyTorch does.
            Tensor y = forward(Ops.reshape(x, 1, x.dim(0), x.dim(1), x.dim(2)));
            return Ops.reshape(y, x.shape());
        }
        if (x.rank() != 4) {
            throw new IllegalArgumentException(who() + ": expected 3D (C, H, W) or 4D (N, C, H, W) input, got "
                    + x.rank() + "D input of shape " + x.shape());
        }
        checkChannels(x);
        boolean useInputStats = isTraining() || !trackRunningStats();
        if (useInputStats) {
            NormChecks.moreThanOneSpatialElement(who(), x);
        }
        double momentum = momentum() == null ? 0.0 : momentum();
        return NormOps.instanceNorm(x, runningMean(), runningVar(), weight(), bias(), useInputStats, momentum, eps());
    }
}
