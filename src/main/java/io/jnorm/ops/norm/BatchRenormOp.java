package io.jnorm.ops.norm;

import io.jnorm.autograd.Autograd;
import io.jnorm.autograd.GradMode;
import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.ops.Checks;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Functional Batch Renormalization (Ioffe 2017, Algorithm 1; spec-brn-ubn-baselines.md §2.1),
 * per channel c over the m = N·L values of an (N, C, *) input:
 *
 * <pre>
 *   μ_B, σ_B = batch mean, sqrt(biased batch variance + eps)
 *   r = clip(σ_B/σ, 1/rmax, rmax),  d = clip((μ_B − μ)/σ, −dmax, dmax)     constants for backward
 *   y = γ·((x − μ_B)/σ_B · r + d) + β
 *   μ ← (1 − momentum)·μ + momentum·μ_B,  σ ← (1 − momentum)·σ + momentum·σ_B   (after r, d)
 *   inference: y = γ·(x − μ)/σ + β
 * </pre>
 *
 * μ and σ are the moving mean and moving standard deviation (not variance); wherever σ divides
 * it is floored at sqrt(eps) as TensorFlow does, which changes nothing for moving statistics
 * this op produced (each σ_B ≥ sqrt(eps)) and keeps hand-loaded ones from dividing by 0.
 * One value per channel (N·L = 1) is allowed: σ_B = sqrt(eps), y = γ·d + β, dx = 0.
 *
 * <p>Each call records one autograd node on (x, γ, β); r and d are never differentiated.
 * Statistics tensors are x's dtype and device.
 */
public final class BatchRenormOp {
    private BatchRenormOp() {
    }

    /** A training step's output and the (constant) correction it used, [C] each. */
    public record Step(Tensor y, Tensor r, Tensor d) {
    }

    /**
     * One training step: batch moments, r and d from the moving statistics as they are on entry,
     * the normalized output, then the in-place moving-statistics update.
     *
     * @param x          (N, C, *) input
     * @param gamma      (C) scale or null (1)
     * @param beta       (C) shift or null (0)
     * @param movingMean (C) μ, updated in place
     * @param movingStd  (C) σ, updated in place
     * @param rmax       ≥ 1; r is clipped to [1/rmax, rmax]
     * @param dmax       ≥ 0; d is clipped to [−dmax, dmax]
     * @param momentum   in [0, 1], the weight of the batch statistics
     * @param eps        &gt; 0, added to the batch variance under the square root
     */
    public static Step train(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingStd,
                             double rmax, double dmax, double momentum, double eps) {
        String op = "batchRenorm";
        NormLayout layout = validate(op, x, gamma, beta, eps);
        channelVectors(op, "training", "movingMean", movingMean, "movingStd", movingStd, x);
        limits(op, rmax, dmax);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(op + ": momentum must be in [0, 1], got " + momentum);
        }
        Shape cs = Shape.of(layout.c());
        Tensor mean = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor var = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor r = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor d = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor scale = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        // Moments, correction, normalize and the moving update in one backend call (one read of x on the GPU).
        try (GradMode.Guard g = GradMode.noGrad()) {
            x.backend().batchRenorm().trainForward(x, layout, gamma, beta, movingMean, movingStd, eps, rmax, dmax,
                    momentum, mean, var, r, d, scale, y);
        }
        recordWithCorrection(op, x, layout, mean, var, gamma, beta, r, d, scale, eps, y);
        // The caller gets its own copies: closing them must not break the recorded backward.
        Step step = new Step(y, snapshot(r), snapshot(d));
        closeIfUnsaved(y, mean, var, r, d, scale);
        return step;
    }

    /**
     * The training forward with a given correction: y = γ·((x − μ_B)/σ_B · r + d) + β with the
     * batch moments of x, r and d constants. This is the function whose gradient Batch Renorm
     * uses, so a finite-difference check of x, γ, β is run against this (with r, d frozen).
     *
     * @param r (C) constants
     * @param d (C) constants
     */
    public static Tensor trainWithCorrection(Tensor x, Tensor gamma, Tensor beta, Tensor r, Tensor d, double eps) {
        String op = "batchRenorm";
        NormLayout layout = validate(op, x, gamma, beta, eps);
        channelVectors(op, "training with a given correction", "r", r, "d", d, x);
        Tensor[] moments = moments(x, layout);
        Tensor mean = moments[0];
        Tensor var = moments[1];
        Tensor rc = snapshot(r);
        Tensor dc = snapshot(d);
        Tensor y = normalizeWithCorrection(op, x, layout, mean, var, gamma, beta, rc, dc, eps);
        closeIfUnsaved(y, mean, var, rc, dc);
        return y;
    }

    /**
     * Inference: y = γ·(x − μ)/max(σ, sqrt(eps)) + β with the moving statistics as constants;
     * dx = dy·γ/max(σ, sqrt(eps)).
     */
    public static Tensor eval(Tensor x, Tensor gamma, Tensor beta, Tensor movingMean, Tensor movingStd, double eps) {
        String op = "batchRenorm";
        NormLayout layout = validate(op, x, gamma, beta, eps);
        channelVectors(op, "eval", "movingMean", movingMean, "movingStd", movingStd, x);
        Shape cs = Shape.of(layout.c());
        // Copies, so that later in-place updates of the moving statistics cannot change the backward.
        Tensor mean = snapshot(movingMean);
        Tensor var = Tensor.zeros(cs, x.dtype(), x.device());
        x.backend().batchRenorm().movingVariance(movingStd, eps, var);
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().norms().normalize(x, layout, mean, var, eps, gamma, beta, y);
        Autograd.record(op + "_eval", y, (gy, needs) -> {
            Tensor dx = needs[0] ? Tensor.zeros(x.shape(), x.dtype(), x.device()) : null;
            Tensor dg = gamma != null && needs[1] ? Tensor.zeros(cs, x.dtype(), x.device()) : null;
            Tensor db = beta != null && needs[2] ? Tensor.zeros(cs, x.dtype(), x.device()) : null;
            x.backend().norms().normalizeBackward(gy, x, layout, mean, var, eps, gamma, false, dx, dg, db);
            return new Tensor[] {dx, dg, db};
        }, x, gamma, beta);
        closeIfUnsaved(y, mean, var);
        return y;
    }

    private static Tensor normalizeWithCorrection(String op, Tensor x, NormLayout layout, Tensor mean, Tensor var,
                                                  Tensor gamma, Tensor beta, Tensor r, Tensor d, double eps) {
        Shape cs = Shape.of(layout.c());
        BatchRenormKernels bk = x.backend().batchRenorm();
        Tensor scale = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor shift = Tensor.zeros(cs, x.dtype(), x.device());
        bk.foldAffine(gamma, beta, r, d, scale, shift);
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().norms().normalize(x, layout, mean, var, eps, scale, shift, y);
        // The backward needs the folded scale, not the shift.
        shift.close();
        recordWithCorrection(op, x, layout, mean, var, gamma, beta, r, d, scale, eps, y);
        closeIfUnsaved(y, scale);
        return y;
    }

    /** The node of y = γ·((x − μ_B)/σ_B · r + d) + β, whose backward reads the folded scale γ·r. */
    private static void recordWithCorrection(String op, Tensor x, NormLayout layout, Tensor mean, Tensor var,
                                             Tensor gamma, Tensor beta, Tensor r, Tensor d, Tensor scale,
                                             double eps, Tensor y) {
        Shape cs = Shape.of(layout.c());
        BatchRenormKernels bk = x.backend().batchRenorm();
        Autograd.record(op, y, (gy, needs) -> {
            boolean wantAffine = (gamma != null && needs[1]) || (beta != null && needs[2]);
            Tensor dx = needs[0] ? Tensor.zeros(x.shape(), x.dtype(), x.device()) : null;
            Tensor sumDyXhat = gamma != null && needs[1] ? Tensor.zeros(cs, x.dtype(), x.device()) : null;
            Tensor sumDy = wantAffine ? Tensor.zeros(cs, x.dtype(), x.device()) : null;
            // With the folded scale γ·r, the batch-statistics backward is exactly r·(BN's dx).
            x.backend().norms().normalizeBackward(gy, x, layout, mean, var, eps, scale, true, dx, sumDyXhat, sumDy);
            Tensor dg = null;
            if (sumDyXhat != null) {
                dg = Tensor.zeros(cs, x.dtype(), x.device());
                bk.gammaGrad(sumDyXhat, sumDy, r, d, dg);
            }
            Tensor db = beta != null && needs[2] ? sumDy : null;
            return new Tensor[] {dx, dg, db};
        }, x, gamma, beta);
    }

    /** Frees tensors only a recorded backward would read, when no node was recorded. */
    private static void closeIfUnsaved(Tensor y, Tensor... saved) {
        if (y.gradFn() == null) {
            for (Tensor t : saved) {
                t.close();
            }
        }
    }

    private static Tensor snapshot(Tensor t) {
        Tensor c = Tensor.zeros(t.shape(), t.dtype(), t.device());
        t.backend().copy(t, c);
        return c;
    }

    private static NormLayout validate(String op, Tensor x, Tensor gamma, Tensor beta, double eps) {
        if (x.rank() < 2) {
            throw new IllegalArgumentException(op + ": input must be (N, C, *) of rank >= 2, got shape " + x.shape());
        }
        channelVector(op, "gamma", gamma, x);
        channelVector(op, "beta", beta, x);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(op + ": eps must be finite and > 0, got " + eps);
        }
        return NormLayout.perChannel(x.dim(0), x.dim(1), (int) x.shape().numel(2, x.rank()));
    }

    static void limits(String op, double rmax, double dmax) {
        if (!(rmax >= 1) || Double.isInfinite(rmax)) {
            throw new IllegalArgumentException(op + ": rmax must be finite and >= 1 (r is clipped to [1/rmax, rmax]), "
                    + "got " + rmax);
        }
        if (!(dmax >= 0) || Double.isInfinite(dmax)) {
            throw new IllegalArgumentException(op + ": dmax must be finite and >= 0, got " + dmax);
        }
    }

    /** The batch mean and biased variance per channel, [C] each. */
    private static Tensor[] moments(Tensor x, NormLayout layout) {
        Shape cs = Shape.of(layout.c());
        Tensor mean = Tensor.zeros(cs, x.dtype(), x.device());
        Tensor var = Tensor.zeros(cs, x.dtype(), x.device());
        x.backend().norms().moments(x, layout, mean, var);
        return new Tensor[] {mean, var};
    }

    /** Two per-channel vectors that {@code mode} requires: both given, [C], on x's device and dtype. */
    private static void channelVectors(String op, String mode, String nameA, Tensor a, String nameB, Tensor b,
                                       Tensor x) {
        channelVector(op, nameA, a, x);
        channelVector(op, nameB, b, x);
        if (a == null || b == null) {
            throw new IllegalArgumentException(op + ": " + mode + " needs " + nameA + " and " + nameB + " (input "
                    + x.shape() + ")");
        }
    }

    /** A per-channel vector must be [C] on x's device and dtype (null passes). */
    static void channelVector(String op, String arg, Tensor t, Tensor x) {
        if (t == null) {
            return;
        }
        Checks.sameDeviceAndDtypeAs(op, arg, t, x);
        if (t.rank() != 1 || t.dim(0) != x.dim(1)) {
            throw new IllegalArgumentException(op + ": " + arg + " must have shape [" + x.dim(1) + "] for input "
                    + x.shape() + ", got " + t.shape());
        }
    }
}
