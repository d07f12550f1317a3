package io.jnorm.ops.norm;

import io.jnorm.backend.NormLayout;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Functional BatchNorm, GroupNorm, LayerNorm and InstanceNorm with PyTorch 1.13's semantics
 * ({@code torch.nn.functional.batch_norm}, {@code group_norm}, {@code layer_norm},
 * {@code instance_norm}). Each call records one autograd node with inputs (x, weight, bias);
 * running statistics are buffers, updated in place and never differentiated.
 *
 * <p>Inputs are contiguous {@code (N, C, *)}; the spatial dims are flattened to L. All tensors
 * of a call share x's device and dtype. eps must be positive (PyTorch's eps = 0 corner, where a
 * constant channel gives 0 instead of NaN, is rejected rather than reproduced).
 */
public final class NormOps {
    private NormOps() {
    }

    /**
     * Batch normalization, as {@code F.batch_norm(x, runningMean, runningVar, weight, bias,
     * training, momentum, eps)}.
     *
     * <p>{@code training = true}: normalize with the biased batch variance over (N, spatial) per
     * channel; if running statistics are given, update them in place:
     * {@code running = (1 − momentum)·running + momentum·batch}, the variance unbiased
     * (N·L/(N·L − 1)). {@code training = false}: normalize with the running statistics (required),
     * which are constants for backward.
     *
     * @param x           (N, C) or (N, C, *)
     * @param runningMean (C) or null (then runningVar must be null too)
     * @param runningVar  (C) or null
     * @param weight      (C) or null
     * @param bias        (C) or null
     * @param momentum    the factor given to the new batch statistics (the module passes
     *                    1/num_batches_tracked for a cumulative average)
     * @throws IllegalArgumentException for bad shapes, a single value per channel with batch
     *         statistics, eval without running statistics, eps ≤ 0
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps) {
        return batchNorm(x, runningMean, runningVar, weight, bias, training, momentum, eps, null);
    }

    /**
     * {@link #batchNorm(Tensor, Tensor, Tensor, Tensor, Tensor, boolean, double, double)} that, in
     * training with running statistics, also adds 1 to {@code numBatchesTracked} in place inside
     * the same kernels (no launch of its own). A module with momentum = None passes
     * {@code momentum = 1/(numBatchesTracked + 1)}, the counter's value after this step.
     *
     * @param numBatchesTracked a 0-d float64 tensor on x's device, or null for no counter
     * @throws IllegalArgumentException as the other overload, and for a counter that is not a 0-d
     *         float64 tensor on x's device or is given without training or running statistics
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                   boolean training, double momentum, double eps, Tensor numBatchesTracked) {
        String op = "batchNorm";
        NormChecks.minRank(op, x, 2, "(N, C, *)");
        int c = x.dim(1);
        NormChecks.bothOrNeither(op, runningMean, runningVar);
        NormChecks.statsAndAffine(op, x, c, "runningMean", runningMean, "runningVar", runningVar, weight, bias);
        NormChecks.eps(op, eps);
        NormLayout layout = NormLayout.perChannel(x.dim(0), c, (int) x.shape().numel(2, x.rank()));
        if (!training) {
            if (runningMean == null) {
                throw new IllegalArgumentException(op + ": training=false needs runningMean and runningVar (input "
                        + x.shape() + "); pass training=true to normalize with batch statistics");
            }
            return Normalize.withFixedStats(op, x, layout, runningMean, runningVar, eps, weight, bias);
        }
        NormChecks.moreThanOneValuePerChannel(op, x);
        NormChecks.momentum(op, momentum);
        if (numBatchesTracked != null) {
            checkCounter(op, x, runningMean, numBatchesTracked);
        }
        Normalize.BatchStats r = Normalize.withBatchStats(op, x, layout, eps, weight, bias, runningMean, runningVar,
                1, momentum, numBatchesTracked);
        r.releaseStatsIfUnsaved();
        return r.y();
    }

    private static void checkCounter(String op, Tensor x, Tensor runningMean, Tensor counter) {
        if (runningMean == null) {
            throw new IllegalArgumentException(op + ": numBatchesTracked needs runningMean and runningVar (input "
                    + x.shape() + ")");
        }
        if (counter.rank() != 0 || counter.dtype() != DType.F64 || !counter.device().equals(x.device())) {
            throw new IllegalArgumentException(op + ": numBatchesTracked must be a 0-d F64 tensor on " + x.device()
                    + ", got " + counter.dtype() + " " + counter.shape() + " on " + counter.device());
        }
    }

    /**
     * Group normalization, as {@code F.group_norm(x, numGroups, weight, bias, eps)}: statistics
     * per (sample, group of C/G consecutive channels) over those channels and all spatial
     * positions, per-channel affine. Mode independent, no state.
     *
     * @param x      (N, C, *) with C divisible by numGroups and (N·C/G)·spatial &gt; 1
     * @param weight (C) or null
     * @param bias   (C) or null
     */
    public static Tensor groupNorm(Tensor x, int numGroups, Tensor weight, Tensor bias, double eps) {
        String op = "groupNorm";
        NormChecks.minRank(op, x, 2, "(N, C, *)");
        int c = x.dim(1);
        NormChecks.divisible(op, c, numGroups);
        NormChecks.perChannel(op, "weight", weight, x, c);
        NormChecks.perChannel(op, "bias", bias, x, c);
        NormChecks.eps(op, eps);
        NormChecks.groupNormSize(op, x, numGroups);
        NormLayout layout = NormLayout.perGroup(x.dim(0), c, (int) x.shape().numel(2, x.rank()), numGroups);
        Normalize.BatchStats r = Normalize.withBatchStats(op, x, layout, eps, weight, bias);
        r.releaseStatsIfUnsaved();
        return r.y();
    }

    /**
     * Layer normalization, as {@code F.layer_norm(x, normalizedShape, weight, bias, eps)}: one
     * statistic per leading index over the trailing {@code normalizedShape} dims, elementwise
     * affine of that shape. A normalized size of 1 gives y = bias and dx = 0.
     *
     * @param x               (*, normalizedShape...)
     * @param normalizedShape the trailing dims, at least one
     * @param weight          shape normalizedShape, or null
     * @param bias            shape normalizedShape, or null
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, double eps) {
        String op = "layerNorm";
        if (normalizedShape == null || normalizedShape.length == 0) {
            throw new IllegalArgumentException(op + ": normalizedShape must name at least one trailing dim, got "
                    + (normalizedShape == null ? "null" : "[]"));
        }
        NormChecks.trailing(op, x, normalizedShape);
        Shape ns = Shape.of(normalizedShape);
        NormChecks.exactShape(op, "weight", weight, x, ns);
        NormChecks.exactShape(op, "bias", bias, x, ns);
        NormChecks.eps(op, eps);
        int m = (int) ns.numel();
        NormLayout layout = NormLayout.perGroup((int) (x.numel() / m), m, 1, 1);
        Normalize.BatchStats r = Normalize.withBatchStats(op, x, layout, eps, weight, bias);
        r.releaseStatsIfUnsaved();
        return r.y();
    }

    /**
     * Instance normalization, as {@code F.instance_norm(x, runningMean, runningVar, weight, bias,
     * useInputStats, momentum, eps)}.
     *
     * <p>{@code useInputStats = true}: statistics per (n, c) over the spatial positions; if
     * running statistics are given they are updated in place with the batch average of the
     * per-instance statistics (variance unbiased, L/(L − 1)):
     * {@code running = (1 − momentum)·running + momentum·mean_n(stat_{n,c})}.
     * {@code useInputStats = false}: normalize with the running statistics (required) as constants.
     *
     * @param x           (N, C, *) with spatial size &gt; 1 when useInputStats
     * @param runningMean (C) or null
     * @param runningVar  (C) or null
     * @param weight      (C) or null
     * @param bias        (C) or null
     */
    public static Tensor instanceNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
                                      boolean useInputStats, double momentum, double eps) {
        String op = "instanceNorm";
        NormChecks.minRank(op, x, 3, "(N, C, *spatial)");
        int n = x.dim(0);
        int c = x.dim(1);
        int l = (int) x.shape().numel(2, x.rank());
        NormChecks.bothOrNeither(op, runningMean, runningVar);
        NormChecks.statsAndAffine(op, x, c, "runningMean", runningMean, "runningVar", runningVar, weight, bias);
        NormChecks.eps(op, eps);
        if (!useInputStats) {
            if (runningMean == null) {
                throw new IllegalArgumentException(op + ": useInputStats=false needs runningMean and runningVar (input "
                        + x.shape() + ")");
            }
            return Normalize.withFixedStats(op, x, NormLayout.perChannel(n, c, l), runningMean, runningVar, eps,
                    weight, bias);
        }
        NormChecks.moreThanOneSpatialElement(op, x);
        NormChecks.momentum(op, momentum);
        NormLayout layout = NormLayout.perGroup(n, c, l, c);
        Normalize.BatchStats r = Normalize.withBatchStats(op, x, layout, eps, weight, bias, runningMean, runningVar,
                n, momentum);
        r.releaseStatsIfUnsaved();
        return r.y();
    }
}
