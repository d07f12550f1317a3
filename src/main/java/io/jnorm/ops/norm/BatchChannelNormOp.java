package io.jnorm.ops.norm;

import io.jnorm.autograd.Autograd;
import io.jnorm.autograd.GradMode;
import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.backend.NormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * The two ops Batch-Channel Normalization (Qiao et al., spec-ws-bcn-sn.md §2) adds to the shared
 * normalizations; its stage 1 with {@code estimate=false} is plain {@link NormOps#batchNorm}.
 * <ul>
 *   <li>{@link #estimatedBatchNorm}: EstBN, the micro-batch stage 1 (§2.2): estimates of the
 *       channel mean and variance, moved toward the batch at rate r without gradient, then used as
 *       constants to normalize.</li>
 *   <li>{@link #groupNormGroupAffine}: stages 2 and 3 (§2.1): group normalization without affine
 *       (biased variance per (n, group) over C/G·L values), then one scale and shift per GROUP,
 *       shared by the group's channels, in one autograd node.</li>
 * </ul>
 * Inputs are contiguous (N, C, *); all tensors of a call share x's dtype and device.
 */
public final class BatchChannelNormOp {
    private BatchChannelNormOp() {
    }

    /**
     * EstBN. When {@code training}, first (no gradient, in place):
     * m, v = batch mean and biased variance per channel; s = v + (m − estMean)²;
     * estMean ← (1 − rate)·estMean + rate·m; estVar ← (1 − rate)·estVar + rate·s. Then, in training
     * and evaluation alike, y = weight·(x − estMean)/sqrt(estVar + eps) + bias with the (updated)
     * estimates as constants: dx = dy·weight/sqrt(estVar + eps). Any N and spatial size works,
     * one value per channel included.
     *
     * @param weight  (C) or null
     * @param bias    (C) or null
     * @param estMean (C) μ̂, updated in place when training
     * @param estVar  (C) σ̂², updated in place when training
     * @param rate    r in [0, 1] (0 freezes the estimates, 1 replaces them by the batch's)
     * @param eps     &gt; 0
     */
    public static Tensor estimatedBatchNorm(Tensor x, Tensor weight, Tensor bias, Tensor estMean, Tensor estVar,
                                            double rate, boolean training, double eps) {
        String op = "estimatedBatchNorm";
        NormChecks.minRank(op, x, 2, "(N, C, *)");
        int c = x.dim(1);
        if (estMean == null || estVar == null) {
            throw new IllegalArgumentException(op + ": estMean and estVar are required (input " + x.shape() + ")");
        }
        NormChecks.statsAndAffine(op, x, c, "estMean", estMean, "estVar", estVar, weight, bias);
        NormChecks.eps(op, eps);
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException(op + ": rate must be in [0, 1], got " + rate);
        }
        NormLayout layout = NormLayout.perChannel(x.dim(0), c, (int) x.shape().numel(2, x.rank()));
        if (!training) {
            return Normalize.withFixedStats(op, x, layout, estMean, estVar, eps, weight, bias);
        }
        // Moments, estimate update and normalize in one backend call (one read of x on the GPU).
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        try (GradMode.Guard g = GradMode.noGrad(); Tensor m = Tensor.zeros(Shape.of(c), x.dtype(), x.device());
             Tensor v = Tensor.zeros(Shape.of(c), x.dtype(), x.device())) {
            x.backend().batchChannelNorm().estimatedForward(x, layout, rate, eps, weight, bias, m, v, estMean, estVar,
                    y);
        }
        return Normalize.recordFixedStats(op, x, layout, estMean, estVar, eps, weight, bias, y);
    }

    /**
     * Stages 2 and 3: for each sample n and group g of C/G consecutive channels, x̂ = (x − μ_ng)
     * /sqrt(σ²_ng + eps) with the biased variance over the group's C/G·L values (gradient through
     * the statistics), then y = weight[g]·x̂ + bias[g]. A group of one value gives x̂ = 0, y = bias[g]
     * and zero gradients except for bias, as the official code does (no error).
     *
     * @param groups G, dividing C
     * @param weight (G) per-group scale, or null (1)
     * @param bias   (G) per-group shift, or null (0)
     */
    public static Tensor groupNormGroupAffine(Tensor x, int groups, Tensor weight, Tensor bias, double eps) {
        String op = "groupNormGroupAffine";
        NormChecks.minRank(op, x, 2, "(N, C, *)");
        int c = x.dim(1);
        NormChecks.divisible(op, c, groups);
        NormChecks.exactShape(op, "weight", weight, x, Shape.of(groups));
        NormChecks.exactShape(op, "bias", bias, x, Shape.of(groups));
        NormChecks.eps(op, eps);
        NormLayout layout = NormLayout.perGroup(x.dim(0), c, (int) x.shape().numel(2, x.rank()), groups);
        NormKernels nk = x.backend().norms();
        BatchChannelNormKernels bk = x.backend().batchChannelNorm();
        Shape stats = Shape.of(layout.statCount());
        Shape cs = Shape.of(c);
        Tensor mean = Tensor.zeros(stats, x.dtype(), x.device());
        Tensor var = Tensor.zeros(stats, x.dtype(), x.device());
        // The normalize kernels take a per-channel affine: repeat each group's value C/G times.
        Tensor wc = weight == null ? null : Tensor.zeros(cs, x.dtype(), x.device());
        Tensor bc = bias == null ? null : Tensor.zeros(cs, x.dtype(), x.device());
        if (wc != null) {
            bk.expandGroups(weight, wc);
        }
        if (bc != null) {
            bk.expandGroups(bias, bc);
        }
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        // One fused call: the cuda backend reads x once for the group statistics and the normalize.
        nk.normalizeWithBatchStats(x, layout, eps, wc, bc, y, mean, var, null, null, 1, 0, 0);
        if (bc != null) {
            bc.close();
        }
        Autograd.record(op, y, (gy, needs) -> {
            boolean wantW = weight != null && needs[1];
            boolean wantB = bias != null && needs[2];
            Tensor dx = needs[0] ? Tensor.zeros(x.shape(), x.dtype(), x.device()) : null;
            Tensor dwc = wantW ? Tensor.zeros(cs, x.dtype(), x.device()) : null;
            Tensor dbc = wantB ? Tensor.zeros(cs, x.dtype(), x.device()) : null;
            nk.normalizeBackward(gy, x, layout, mean, var, eps, wc, true, dx, dwc, dbc);
            Tensor dw = null;
            Tensor db = null;
            if (wantW) {
                dw = Tensor.zeros(Shape.of(groups), x.dtype(), x.device());
                bk.sumGroups(dwc, dw);
            }
            if (wantB) {
                db = Tensor.zeros(Shape.of(groups), x.dtype(), x.device());
                bk.sumGroups(dbc, db);
            }
            return new Tensor[] {dx, dw, db};
        }, x, weight, bias);
        if (y.gradFn() == null) {
            // nothing will run the backward: free what only it would read
            mean.close();
            var.close();
            if (wc != null) {
                wc.close();
            }
        }
        return y;
    }
}
