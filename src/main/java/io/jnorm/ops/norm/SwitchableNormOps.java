package io.jnorm.ops.norm;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.backend.SwitchableNormKernels.Stats;
import io.jnorm.ops.Checks;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Switchable Normalization as a functional op (spec-ws-bcn-sn.md §3): IN statistics with the
 * unbiased variance, LN and BN statistics derived from them, two separate softmaxes over the
 * (IN, LN[, BN]) logits, per-channel affine. One autograd node with the closed-form backward of
 * §3.6; every input (x, both logit vectors, gamma, beta) receives a gradient.
 */
public final class SwitchableNormOps {
    private static final String OP = "switchableNorm2d";

    private SwitchableNormOps() {
    }

    /**
     * The op's result.
     *
     * @param y         [N, C, H, W], differentiable
     * @param batchMean [C] this batch's BN mean (no gradient), null in evaluation or without BN;
     *                  the backward reads it, so free it only when {@code y} has no grad node
     * @param batchVar  [C] this batch's derived BN variance (no gradient), null likewise
     */
    public record Output(Tensor y, Tensor batchMean, Tensor batchVar) {
    }

    /**
     * Applies SN to x [N, C, H, W] with H·W ≥ 2.
     *
     * @param meanLogits  [3] (IN, LN, BN) or [2] (IN, LN): the mean mixing logits; the length
     *                    decides whether BN is mixed
     * @param varLogits   the variance mixing logits, same length
     * @param gamma       [C] scale; beta [C] shift
     * @param runningMean [C] BN mean used in evaluation (a constant); ignored in training or
     *                    without BN, may then be null
     * @param runningVar  [C] likewise for the variance
     * @param training    true: BN statistics from this batch, differentiable; false: the running
     *                    statistics, constants (the logits still get gradient through them)
     * @param eps         added to the mixed variance inside the square root, finite and ≥ 0
     * @throws IllegalArgumentException naming the argument and shapes when the inputs do not fit
     */
    public static Output switchableNorm2d(Tensor x, Tensor meanLogits, Tensor varLogits, Tensor gamma,
                                          Tensor beta, Tensor runningMean, Tensor runningVar,
                                          boolean training, double eps) {
        return switchableNorm2d(x, meanLogits, varLogits, gamma, beta, runningMean, runningVar, training, eps,
                false, 0);
    }

    /**
     * {@link #switchableNorm2d(Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, boolean, double)},
     * and, when {@code updateRunning} (training with BN mixed only), the official moving average
     * of the running statistics in place, inside the statistics kernel:
     * {@code R ← keep·R + (1 − keep)·batch}, each product and the sum rounded to the dtype.
     *
     * @param updateRunning whether to move runningMean / runningVar (then both must be [C])
     * @param keep          the KEEP factor of the moving average, in [0, 1]
     * @throws IllegalArgumentException as the other overload, and for an update that is not a
     *                                  training step with BN mixed, a missing running buffer or a
     *                                  keep factor outside [0, 1]
     */
    public static Output switchableNorm2d(Tensor x, Tensor meanLogits, Tensor varLogits, Tensor gamma,
                                          Tensor beta, Tensor runningMean, Tensor runningVar,
                                          boolean training, double eps, boolean updateRunning, double keep) {
        check(x, meanLogits, varLogits, gamma, beta, runningMean, runningVar, training, eps);
        if (updateRunning) {
            checkUpdate(x, meanLogits, runningMean, runningVar, training, keep);
        }
        int n = x.dim(0);
        int c = x.dim(1);
        boolean bn = meanLogits.dim(0) == 3;
        SwitchableNormKernels k = x.backend().switchableNorm();
        Stats stats = allocateStats(x, bn && training);
        if (updateRunning) {
            k.statistics(x, stats, runningMean, runningVar, keep);
        } else {
            k.statistics(x, stats);
        }
        if (bn && !training) {
            // Copies, so a later training step that updates the module's running buffers in
            // place cannot change what this node's backward reads.
            Tensor rm = Tensor.zeros(runningMean.shape(), x.dtype(), x.device());
            Tensor rv = Tensor.zeros(runningVar.shape(), x.dtype(), x.device());
            x.backend().copy(runningMean, rm);
            x.backend().copy(runningVar, rv);
            stats = new Stats(stats.meanIn(), stats.varIn(), stats.meanLn(), stats.varLn(), rm, rv);
        }
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        Tensor mean = Tensor.zeros(Shape.of(n, c), x.dtype(), x.device());
        Tensor rstd = Tensor.zeros(Shape.of(n, c), x.dtype(), x.device());
        k.forward(x, stats, meanLogits, varLogits, gamma, beta, eps, y, mean, rstd);
        Stats saved = stats;
        Autograd.record(OP, y, (dy, needs) -> {
            Tensor a = Tensor.zeros(Shape.of(n, c), x.dtype(), x.device());
            Tensor b = Tensor.zeros(Shape.of(n, c), x.dtype(), x.device());
            Tensor dGamma = needs[3] ? Tensor.zeros(gamma.shape(), x.dtype(), x.device()) : null;
            Tensor dBeta = needs[4] ? Tensor.zeros(beta.shape(), x.dtype(), x.device()) : null;
            k.backwardReduce(x, dy, mean, rstd, gamma, a, b, dGamma, dBeta);
            Tensor dMean = needs[1] ? Tensor.zeros(meanLogits.shape(), x.dtype(), x.device()) : null;
            Tensor dVar = needs[2] ? Tensor.zeros(varLogits.shape(), x.dtype(), x.device()) : null;
            if (dMean != null || dVar != null) {
                k.backwardLogits(a, b, saved, meanLogits, varLogits, dMean, dVar);
            }
            Tensor dx = null;
            if (needs[0]) {
                dx = Tensor.zeros(x.shape(), x.dtype(), x.device());
                k.backwardInput(x, dy, a, b, saved, rstd, gamma, meanLogits, varLogits, training, dx);
            }
            return new Tensor[] {dx, dMean, dVar, dGamma, dBeta};
        }, x, meanLogits, varLogits, gamma, beta);
        if (y.gradFn() == null) {
            // No backward will run: free what only it would read (the batch pair goes to the caller).
            for (Tensor t : new Tensor[] {stats.meanIn(), stats.varIn(), stats.meanLn(), stats.varLn(), mean, rstd}) {
                t.close();
            }
            if (bn && !training) {
                stats.meanBn().close();
                stats.varBn().close();
            }
        }
        return bn && training ? new Output(y, stats.meanBn(), stats.varBn()) : new Output(y, null, null);
    }

    private static Stats allocateStats(Tensor x, boolean withBn) {
        int n = x.dim(0);
        int c = x.dim(1);
        return new Stats(
                Tensor.zeros(Shape.of(n, c), x.dtype(), x.device()),
                Tensor.zeros(Shape.of(n, c), x.dtype(), x.device()),
                Tensor.zeros(Shape.of(n), x.dtype(), x.device()),
                Tensor.zeros(Shape.of(n), x.dtype(), x.device()),
                withBn ? Tensor.zeros(Shape.of(c), x.dtype(), x.device()) : null,
                withBn ? Tensor.zeros(Shape.of(c), x.dtype(), x.device()) : null);
    }

    private static void checkUpdate(Tensor x, Tensor meanLogits, Tensor runningMean, Tensor runningVar,
                                    boolean training, double keep) {
        if (!training || meanLogits.dim(0) != 3) {
            throw new IllegalArgumentException(OP + ": a running-statistics update needs training with BN mixed, got "
                    + "training=" + training + " and " + meanLogits.dim(0) + " logits");
        }
        if (runningMean == null || runningVar == null) {
            throw new IllegalArgumentException(OP + ": a running-statistics update needs runningMean and runningVar "
                    + "of shape " + Shape.of(x.dim(1)));
        }
        Checks.shape(OP, "runningMean", runningMean, Shape.of(x.dim(1)));
        Checks.shape(OP, "runningVar", runningVar, Shape.of(x.dim(1)));
        Checks.sameDeviceAndDtypeAs(OP, "runningMean", runningMean, x);
        Checks.sameDeviceAndDtypeAs(OP, "runningVar", runningVar, x);
        if (!(keep >= 0 && keep <= 1)) {
            throw new IllegalArgumentException(OP + ": keep factor must be in [0, 1], got " + keep);
        }
    }

    private static void checkInput(Tensor x) {
        Checks.rank(OP, "input", x, 4);
        if (x.dim(2) * x.dim(3) < 2) {
            throw new IllegalArgumentException(OP + ": input " + x.shape() + " has H·W = " + x.dim(2) * x.dim(3)
                    + "; the unbiased instance variance needs H·W >= 2");
        }
    }

    private static void check(Tensor x, Tensor meanLogits, Tensor varLogits, Tensor gamma, Tensor beta,
                              Tensor runningMean, Tensor runningVar, boolean training, double eps) {
        checkInput(x);
        int c = x.dim(1);
        Checks.rank(OP, "meanLogits", meanLogits, 1);
        int terms = meanLogits.dim(0);
        if (terms != 2 && terms != 3) {
            throw new IllegalArgumentException(OP + ": meanLogits must have 3 (IN, LN, BN) or 2 (IN, LN) entries, got "
                    + meanLogits.shape());
        }
        Checks.shape(OP, "varLogits", varLogits, meanLogits.shape());
        Checks.shape(OP, "gamma", gamma, Shape.of(c));
        Checks.shape(OP, "beta", beta, Shape.of(c));
        Checks.sameDeviceAndDtypeAs(OP, "meanLogits", meanLogits, x);
        Checks.sameDeviceAndDtypeAs(OP, "varLogits", varLogits, x);
        Checks.sameDeviceAndDtypeAs(OP, "gamma", gamma, x);
        Checks.sameDeviceAndDtypeAs(OP, "beta", beta, x);
        if (terms == 3 && !training) {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException(OP + ": evaluation with BN mixed needs runningMean and runningVar "
                        + "of shape " + Shape.of(c));
            }
            Checks.shape(OP, "runningMean", runningMean, Shape.of(c));
            Checks.shape(OP, "runningVar", runningVar, Shape.of(c));
            Checks.sameDeviceAndDtypeAs(OP, "runningMean", runningMean, x);
            Checks.sameDeviceAndDtypeAs(OP, "runningVar", runningVar, x);
        }
        if (!Double.isFinite(eps) || eps < 0) {
            throw new IllegalArgumentException(OP + ": eps must be finite and >= 0, got " + eps);
        }
    }
}
