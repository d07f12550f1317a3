package io.jnorm.ops.norm;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.Backend;
import io.jnorm.backend.NormLayout;
import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.ops.Checks;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Unified Batch Normalization as functional ops (spec-brn-ubn-baselines.md §3.2-3.4): the
 * condensation measure that drives the gate, and the normalization itself (RBN centering,
 * BN with batch or running statistics, RBN scaling, BNET depthwise-conv affine) as one autograd
 * node with the closed-form backward of §3.4. The gate decision and the running-statistic
 * bookkeeping belong to {@link io.jnorm.nn.UnifiedBatchNorm2d}.
 */
public final class UnifiedBatchNormOps {
    private static final String OP = "unifiedBatchNorm2d";

    private UnifiedBatchNormOps() {
    }

    /**
     * The op's result.
     *
     * @param y         [N, C, H, W], differentiable
     * @param batchMean [C] the batch mean of the centred input (no gradient), null in the running
     *                  branch; the backward reads it, so free it only when {@code y} has no grad node
     * @param batchVar  [C] its biased batch variance (no gradient), null in the running branch
     */
    public record Output(Tensor y, Tensor batchMean, Tensor batchVar) {
    }

    /**
     * The mean off-diagonal cosine similarity of the first {@code min(N, maxSamples)} samples of
     * x, each flattened over (C, H, W), computed as the co-author's code does (see
     * {@link UnifiedBatchNormKernels#meanPairwiseCosine}); 1 for a single sample. No gradient.
     *
     * @throws IllegalArgumentException for x of rank &lt; 2 or maxSamples &lt; 1
     */
    public static double meanPairwiseCosine(Tensor x, int maxSamples) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException("meanPairwiseCosine: input must have rank >= 2 (samples first), got "
                    + x.shape());
        }
        Checks.positive("meanPairwiseCosine", "maxSamples", maxSamples);
        try (Tensor out = Tensor.zeros(Shape.of(1), DType.F64, x.device())) {
            x.backend().unifiedBatchNorm().meanPairwiseCosine(x, maxSamples, out);
            return out.item();
        }
    }

    /**
     * Applies UBN to x [N, C, H, W].
     *
     * @param centerWeight [C] w_c; scaleWeight [C] w_s; scaleBias [C] b_s
     * @param convWeight   [C, 1, k, k] depthwise kernel with odd k, or null for no affine
     *                     (then y = s·x̂); convBias [C], null exactly when convWeight is
     * @param runningMean  [C] used in the running branch (constants); may be null in the batch branch
     * @param runningVar   [C] likewise
     * @param batchStats   true: normalize with the batch statistics of the centred input
     *                     (needs N·H·W &gt; 1); false: with the running statistics
     * @param eps          &gt; 0, inside the square root
     * @throws IllegalArgumentException naming the argument and shapes when the inputs do not fit
     */
    public static Output unifiedBatchNorm2d(Tensor x, Tensor centerWeight, Tensor scaleWeight, Tensor scaleBias,
                                            Tensor convWeight, Tensor convBias, Tensor runningMean,
                                            Tensor runningVar, boolean batchStats, double eps) {
        check(x, centerWeight, scaleWeight, scaleBias, convWeight, convBias, runningMean, runningVar, batchStats, eps);
        int n = x.dim(0);
        int c = x.dim(1);
        Backend be = x.backend();
        UnifiedBatchNormKernels k = be.unifiedBatchNorm();
        NormLayout layout = NormLayout.perChannel(n, c, x.dim(2) * x.dim(3));
        Tensor a = Tensor.zeros(Shape.of(n, c), x.dtype(), x.device());
        Tensor xc = Tensor.zeros(x.shape(), x.dtype(), x.device());
        k.center(x, centerWeight, a, xc);
        Tensor mean = Tensor.zeros(Shape.of(c), x.dtype(), x.device());
        Tensor var = Tensor.zeros(Shape.of(c), x.dtype(), x.device());
        Tensor xhat = Tensor.zeros(x.shape(), x.dtype(), x.device());
        if (batchStats) {
            // moments and normalize in one call: the cuda backend reads xc once for both
            be.norms().normalizeWithBatchStats(xc, layout, eps, null, null, xhat, mean, var, null, null, 1, 0, 0);
        } else {
            // Copies, so a later step that updates the module's running statistics in place
            // cannot change what this node's backward reads.
            be.copy(runningMean, mean);
            be.copy(runningVar, var);
            be.norms().normalize(xc, layout, mean, var, eps, null, null, xhat);
        }
        Tensor s = Tensor.zeros(Shape.of(n, c), x.dtype(), x.device());
        Tensor z = convWeight == null ? null : Tensor.zeros(x.shape(), x.dtype(), x.device());
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        k.calibrateAndAffine(xhat, scaleWeight, scaleBias, convWeight, convBias, s, z, y);
        Autograd.record(OP, y, (dy, needs) -> {
            boolean throughXhat = needs[0] || needs[1];
            Tensor dxhat = throughXhat ? Tensor.zeros(x.shape(), x.dtype(), x.device()) : null;
            Tensor dws = needs[2] ? Tensor.zeros(Shape.of(c), x.dtype(), x.device()) : null;
            Tensor dbs = needs[3] ? Tensor.zeros(Shape.of(c), x.dtype(), x.device()) : null;
            Tensor dk = convWeight != null && needs[4] ? Tensor.zeros(convWeight.shape(), x.dtype(), x.device()) : null;
            Tensor db = convBias != null && needs[5] ? Tensor.zeros(convBias.shape(), x.dtype(), x.device()) : null;
            k.calibrateAndAffineBackward(dy, xhat, z, s, scaleWeight, convWeight, dxhat, dws, dbs, dk, db);
            Tensor dx = null;
            Tensor dwc = null;
            if (throughXhat) {
                Tensor dxc = Tensor.zeros(x.shape(), x.dtype(), x.device());
                be.norms().normalizeBackward(dxhat, xc, layout, mean, var, eps, null, batchStats, dxc, null, null);
                dx = needs[0] ? Tensor.zeros(x.shape(), x.dtype(), x.device()) : null;
                dwc = needs[1] ? Tensor.zeros(Shape.of(c), x.dtype(), x.device()) : null;
                k.centerBackward(dxc, a, centerWeight, dx, dwc);
            }
            return new Tensor[] {dx, dwc, dws, dbs, dk, db};
        }, x, centerWeight, scaleWeight, scaleBias, convWeight, convBias);
        if (y.gradFn() == null) {
            // No backward will run: free what only it would read (the batch pair goes to the caller).
            for (Tensor t : new Tensor[] {a, xc, xhat, s, z}) {
                if (t != null) {
                    t.close();
                }
            }
            if (!batchStats) {
                mean.close();
                var.close();
            }
        }
        return batchStats ? new Output(y, mean, var) : new Output(y, null, null);
    }

    /**
     * Updates running statistics in place from a batch branch's output, PyTorch's convention:
     * R ← (1 − factor)·R + factor·batch, with the variance made unbiased over
     * {@code count} = N·H·W values.
     *
     * @param factor the momentum, or 1/num_batches_tracked for a cumulative average, in [0, 1]
     */
    public static void updateRunningStats(Output batch, long count, double factor, Tensor runningMean,
                                          Tensor runningVar) {
        if (batch.batchMean() == null) {
            throw new IllegalArgumentException(OP + ": updateRunningStats needs the output of a batch-statistics call");
        }
        if (count < 2) {
            throw new IllegalArgumentException(OP + ": updateRunningStats needs count >= 2, got " + count);
        }
        if (!(factor >= 0 && factor <= 1)) {
            throw new IllegalArgumentException(OP + ": updateRunningStats factor must be in [0, 1], got " + factor);
        }
        Checks.shape(OP, "runningMean", runningMean, batch.batchMean().shape());
        Checks.shape(OP, "runningVar", runningVar, batch.batchMean().shape());
        Checks.sameDeviceAndDtype(OP, batch.batchMean(), runningMean, runningVar);
        runningMean.backend().norms().updateRunningStats(batch.batchMean(), batch.batchVar(), 1, count, factor,
                runningMean, runningVar);
    }

    private static void check(Tensor x, Tensor centerWeight, Tensor scaleWeight, Tensor scaleBias, Tensor convWeight,
                              Tensor convBias, Tensor runningMean, Tensor runningVar, boolean batchStats, double eps) {
        Checks.rank(OP, "input", x, 4);
        int c = x.dim(1);
        Shape cs = Shape.of(c);
        Checks.shape(OP, "centerWeight", centerWeight, cs);
        Checks.shape(OP, "scaleWeight", scaleWeight, cs);
        Checks.shape(OP, "scaleBias", scaleBias, cs);
        Checks.sameDeviceAndDtypeAs(OP, "centerWeight", centerWeight, x);
        Checks.sameDeviceAndDtypeAs(OP, "scaleWeight", scaleWeight, x);
        Checks.sameDeviceAndDtypeAs(OP, "scaleBias", scaleBias, x);
        Checks.sameDeviceAndDtypeAs(OP, "convWeight", convWeight, x);
        Checks.sameDeviceAndDtypeAs(OP, "convBias", convBias, x);
        if ((convWeight == null) != (convBias == null)) {
            throw new IllegalArgumentException(OP + ": convWeight and convBias must both be given or both be null, got "
                    + (convWeight == null ? "null" : convWeight.shape()) + " and "
                    + (convBias == null ? "null" : convBias.shape()));
        }
        if (convWeight != null) {
            Checks.rank(OP, "convWeight", convWeight, 4);
            int kh = convWeight.dim(2);
            if (convWeight.dim(0) != c || convWeight.dim(1) != 1 || convWeight.dim(3) != kh || kh % 2 == 0) {
                throw new IllegalArgumentException(OP + ": convWeight must be a depthwise kernel [" + c
                        + ", 1, k, k] with odd k, got " + convWeight.shape());
            }
            Checks.shape(OP, "convBias", convBias, cs);
        }
        if (batchStats) {
            long perChannel = (long) x.dim(0) * x.dim(2) * x.dim(3);
            if (perChannel < 2) {
                throw new IllegalArgumentException(OP + ": expected more than 1 value per channel for batch "
                        + "statistics, got input " + x.shape());
            }
        } else {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException(OP + ": the running-statistics branch needs runningMean and "
                        + "runningVar of shape " + cs);
            }
            Checks.shape(OP, "runningMean", runningMean, cs);
            Checks.shape(OP, "runningVar", runningVar, cs);
            Checks.sameDeviceAndDtypeAs(OP, "runningMean", runningMean, x);
            Checks.sameDeviceAndDtypeAs(OP, "runningVar", runningVar, x);
        }
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException(OP + ": eps must be finite and > 0, got " + eps);
        }
    }
}
