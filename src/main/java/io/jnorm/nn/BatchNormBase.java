package io.jnorm.nn;

import io.jnorm.ops.norm.NormChecks;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * Batch normalization with PyTorch's mode logic ({@code _BatchNorm.forward}):
 * <ul>
 *   <li>training with tracked statistics: batch statistics; num_batches_tracked += 1; running
 *       statistics move by {@code momentum}, or by {@code 1/num_batches_tracked} when momentum is
 *       null (cumulative average; the first step copies the batch statistics); the running
 *       variance is unbiased;</li>
 *   <li>eval with tracked statistics: running statistics, unchanged, constants for backward;</li>
 *   <li>without tracked statistics: batch statistics in training AND eval.</li>
 * </ul>
 * Batch statistics need more than one value per channel (N·spatial ≥ 2). Unlike PyTorch, which
 * bumps num_batches_tracked before that check fails, a rejected call leaves the state untouched
 * (the counter is bumped by the normalization kernels themselves).
 */
public abstract class BatchNormBase extends NormBase {

    protected BatchNormBase(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats,
                            DType dtype, Device device) {
        super(numFeatures, eps, momentum, affine, trackRunningStats, dtype, device);
    }

    /** Rejects input ranks the concrete layer does not accept (message names the layer). */
    protected abstract void checkRank(Tensor x);

    @Override
    public Tensor forward(Tensor x) {
        checkRank(x);
        checkChannels(x);
        boolean useBatchStats = isTraining() || !trackRunningStats();
        if (useBatchStats) {
            NormChecks.moreThanOneValuePerChannel(who(), x);
        }
        double factor = momentum() == null ? 0.0 : momentum();
        boolean update = isTraining() && trackRunningStats();
        // The op bumps num_batches_tracked inside its own kernels (no launch of its own); the
        // cumulative average needs the count after this step, read before.
        Tensor counter = update ? numBatchesTracked() : null;
        if (update && momentum() == null) {
            factor = 1.0 / (counter.item() + 1);
        }
        return NormOps.batchNorm(x, runningMean(), runningVar(), weight(), bias(), useBatchStats, factor, eps(),
                counter);
    }
}
