package io.jnorm.ops.norm;

import io.jnorm.autograd.Autograd;
import io.jnorm.ops.Checks;
import io.jnorm.tensor.Tensor;

/**
 * Weight standardization (Qiao et al. 2019), the general form of spec-ws-bcn-sn.md §1.2:
 * every output channel o of a weight W [O, ...] is standardized over its fan-in
 * (I = numel / O values, e.g. C/groups · kH · kW for a conv weight):
 *
 * <pre>
 *   Ŵ_oj = (W_oj − μ_o) / (sqrt(v_o + epsIn) + epsOut),   v_o = Σ_j (W_oj − μ_o)² / M
 * </pre>
 *
 * with M = I − 1 ({@code unbiased}) or M = I. Gradients flow through μ and v (nothing is
 * detached), as in every official implementation; the backward is the closed form of §1.4 in
 * one autograd node. The named variants live in {@code io.jnorm.nn.WsPreset}.
 */
public final class WeightStandardization {
    private static final String OP = "weightStandardize";

    private WeightStandardization() {
    }

    /**
     * @param w        weight [O, ...] of rank 2 or more (a conv weight is [O, C/groups, kH, kW])
     * @param epsIn    added to the variance inside the square root; finite, >= 0
     * @param epsOut   added to the square root; finite, >= 0
     * @param unbiased divide the variance by I − 1 (true) or I (false)
     * @return Ŵ, same shape, dtype and device as {@code w}
     * @throws IllegalArgumentException for rank < 2, negative or non-finite eps, both eps 0
     *                                  (a constant row would give 0/0), or fan-in 1 with the
     *                                  unbiased variance (divisor 0)
     */
    public static Tensor weightStandardize(Tensor w, double epsIn, double epsOut, boolean unbiased) {
        validate(w, epsIn, epsOut, unbiased);
        Tensor wHat = Tensor.zeros(w.shape(), w.dtype(), w.device());
        w.backend().weightStandardization().forward(w, epsIn, epsOut, unbiased, wHat);
        return Autograd.record("weight_standardize", wHat, (gy, needs) -> {
            Tensor gw = Tensor.zeros(w.shape(), w.dtype(), w.device());
            w.backend().weightStandardization().backward(w, gy, epsIn, epsOut, unbiased, gw);
            return new Tensor[] {gw};
        }, w);
    }

    /** Fan-in of each output channel: numel / dim(0). */
    public static long fanIn(Tensor w) {
        return w.numel() / w.dim(0);
    }

    /**
     * The checks of {@link #weightStandardize}, shared with the fused weight-standardized
     * convolution ({@code Ops.wsConv2d}).
     *
     * @throws IllegalArgumentException as {@link #weightStandardize} does
     */
    public static void validate(Tensor w, double epsIn, double epsOut, boolean unbiased) {
        if (w.rank() < 2) {
            throw new IllegalArgumentException(OP + ": weight must have rank >= 2 ([out, fan-in...]), got shape "
                    + w.shape());
        }
        Checks.finite(OP, "epsIn", epsIn);
        Checks.finite(OP, "epsOut", epsOut);
        if (epsIn < 0 || epsOut < 0) {
            throw new IllegalArgumentException(OP + ": epsIn and epsOut must be >= 0, got epsIn " + epsIn
                    + ", epsOut " + epsOut);
        }
        if (epsIn == 0 && epsOut == 0) {
            throw new IllegalArgumentException(OP + ": epsIn and epsOut are both 0, so an output channel with "
                    + "constant weights would be 0/0; give one of them a positive value");
        }
        if (unbiased && fanIn(w) == 1) {
            throw new IllegalArgumentException(OP + ": weight " + w.shape() + " has fan-in I = 1 per output "
                    + "channel, where the unbiased variance (divisor I - 1 = 0) is undefined; use the biased "
                    + "variance (unbiased = false) or a larger fan-in");
        }
    }
}
