package io.jnorm.ops.norm;

import io.jnorm.autograd.Autograd;
import io.jnorm.autograd.GradMode;
import io.jnorm.backend.NormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * The two differentiable building blocks every normalization op is made of; each records ONE
 * autograd node (inputs x, weight, bias) whose backward is {@link NormKernels#normalizeBackward}.
 * Layers other than BN / GN / LN / IN (Batch Renorm, Batch-Channel Norm, ...) may call these
 * directly. Arguments are assumed validated by the caller (see {@link NormChecks}); the backward
 * runs kernels, so it is not itself differentiable (no double backward).
 */
public final class Normalize {
    private Normalize() {
    }

    /**
     * The output of a normalization with batch statistics, and those statistics (moments of x
     * under the layout: {@code layout.statCount()} means and biased variances, shape
     * {@code [statCount]}, x's dtype and device; they carry no gradient).
     */
    public record BatchStats(Tensor y, Tensor mean, Tensor var) {

        /**
         * Frees the statistics when no autograd node holds them (grad mode off, or nothing
         * requires grad); call it once the caller is done with {@link #mean()} and {@link #var()}.
         */
        public void releaseStatsIfUnsaved() {
            if (y.gradFn() == null) {
                mean.close();
                var.close();
            }
        }
    }

    /**
     * y = weight·(x − μ)/sqrt(σ² + eps) + bias with μ, σ² the moments of x under {@code layout};
     * the gradient flows through the statistics (spec §0.1).
     *
     * @param op     name recorded on the autograd node
     * @param weight per-channel scale of {@code layout.c()} elements (any shape), or null
     * @param bias   per-channel shift, or null
     */
    public static BatchStats withBatchStats(String op, Tensor x, NormLayout layout, double eps,
                                            Tensor weight, Tensor bias) {
        return withBatchStats(op, x, layout, eps, weight, bias, null, null, 1, 0);
    }

    /**
     * As {@link #withBatchStats(String, Tensor, NormLayout, double, Tensor, Tensor)}, and when
     * {@code runningMean} is given, also the running update of
     * {@link NormKernels#updateRunningStats} with {@code count = layout.elementsPerStat()}
     * (no gradient), all through {@link NormKernels#normalizeWithBatchStats} so a backend can fuse it.
     *
     * @param runningMean C values updated in place, or null (then runningVar is null too)
     * @param instances   blocks of C statistics averaged into the running statistics (1 for BN, N for IN)
     * @param momentum    the factor given to the new statistics
     */
    public static BatchStats withBatchStats(String op, Tensor x, NormLayout layout, double eps, Tensor weight,
                                            Tensor bias, Tensor runningMean, Tensor runningVar, int instances,
                                            double momentum) {
        return withBatchStats(op, x, layout, eps, weight, bias, runningMean, runningVar, instances, momentum, null);
    }

    /**
     * {@link #withBatchStats(String, Tensor, NormLayout, double, Tensor, Tensor, Tensor, Tensor, int, double)}
     * that also adds 1 to a step counter in the same kernels (see
     * {@link NormKernels#normalizeWithBatchStats(Tensor, NormLayout, double, Tensor, Tensor, Tensor, Tensor,
     * Tensor, Tensor, Tensor, int, long, double, Tensor)}).
     *
     * @param counter a 0-d float64 tensor on x's device, or null
     */
    public static BatchStats withBatchStats(String op, Tensor x, NormLayout layout, double eps, Tensor weight,
                                            Tensor bias, Tensor runningMean, Tensor runningVar, int instances,
                                            double momentum, Tensor counter) {
        Shape statShape = Shape.of(layout.statCount());
        Tensor mean = Tensor.zeros(statShape, x.dtype(), x.device());
        Tensor var = Tensor.zeros(statShape, x.dtype(), x.device());
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().norms().normalizeWithBatchStats(x, layout, eps, weight, bias, y, mean, var, runningMean,
                runningVar, instances, layout.elementsPerStat(), momentum, counter);
        return new BatchStats(record(op, x, layout, mean, var, eps, weight, bias, true, y), mean, var);
    }

    /**
     * y = weight·(x − mean)/sqrt(var + eps) + bias with given per-statistic constants (running
     * statistics); dx = dy·weight/sqrt(var + eps). The constants are copied for backward when a
     * node is recorded, so later in-place updates of running statistics cannot change it.
     *
     * @param mean {@code layout.statCount()} values
     * @param var  {@code layout.statCount()} variances
     */
    public static Tensor withFixedStats(String op, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                                        Tensor weight, Tensor bias) {
        boolean recording = GradMode.isEnabled() && (x.requiresGrad()
                || (weight != null && weight.requiresGrad()) || (bias != null && bias.requiresGrad()));
        if (recording) {
            mean = snapshot(mean);
            var = snapshot(var);
        }
        return apply(op, x, layout, mean, var, eps, weight, bias, false);
    }

    /**
     * The autograd node of {@link #withFixedStats} for a y the caller already computed with these
     * constants (a fused backend call): the constants are copied when a node is recorded.
     */
    static Tensor recordFixedStats(String op, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                                   Tensor weight, Tensor bias, Tensor y) {
        boolean recording = GradMode.isEnabled() && (x.requiresGrad()
                || (weight != null && weight.requiresGrad()) || (bias != null && bias.requiresGrad()));
        if (!recording) {
            return y;
        }
        return record(op, x, layout, snapshot(mean), snapshot(var), eps, weight, bias, false, y);
    }

    private static Tensor snapshot(Tensor t) {
        Tensor c = Tensor.zeros(t.shape(), t.dtype(), t.device());
        t.backend().copy(t, c);
        return c;
    }

    private static Tensor apply(String op, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                                Tensor weight, Tensor bias, boolean statsFromInput) {
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().norms().normalize(x, layout, mean, var, eps, weight, bias, y);
        return record(op, x, layout, mean, var, eps, weight, bias, statsFromInput, y);
    }

    /** Records the node of y = normalize(x, ...) whose backward is normalizeBackward. */
    private static Tensor record(String op, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                                 Tensor weight, Tensor bias, boolean statsFromInput, Tensor y) {
        return Autograd.record(op, y, (gy, needs) -> {
            Tensor dx = needs[0] ? Tensor.zeros(x.shape(), x.dtype(), x.device()) : null;
            Tensor dw = needs[1] ? Tensor.zeros(weight.shape(), weight.dtype(), weight.device()) : null;
            Tensor db = needs[2] ? Tensor.zeros(bias.shape(), bias.dtype(), bias.device()) : null;
            x.backend().norms().normalizeBackward(gy, x, layout, mean, var, eps, weight, statsFromInput, dx, dw, db);
            return new Tensor[] {dx, dw, db};
        }, x, weight, bias);
    }
}
