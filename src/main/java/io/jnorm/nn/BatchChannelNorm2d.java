package io.jnorm.nn;

import io.jnorm.ops.norm.BatchChannelNormOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Batch-Channel Normalization over NCHW input (Qiao et al. 2019, the BCN README's {@code BCNorm};
 * spec-ws-bcn-sn.md §2), three stages:
 * <ol>
 *   <li>per-channel batch normalization with its own affine (γ_c, β_c), child module {@code bn}:
 *       {@code estimate = false} (default; "large-batch BCN", the released training code):
 *       a {@link BatchNorm2d} with PyTorch's semantics and momentum {@link Builder#momentum};
 *       {@code estimate = true} ("micro-batch BCN"): an {@link EstBatchNorm2d} whose estimates
 *       move at rate r without gradient;</li>
 *   <li>group normalization without affine over each (n, group of C/G channels), biased
 *       variance, gradient through the statistics, the same in training and evaluation;</li>
 *   <li>an affine with ONE scale and shift per group ({@code weight}, {@code bias}: G values,
 *       init 1 and 0), not per channel as in GroupNorm.</li>
 * </ol>
 * Defaults: 32 groups, eps 1e-5 (both normalizations), estimate off, r = 0.1 when estimate is on
 * (the official code's r starts at 0, which freezes the estimates, and no released script sets
 * it; 0.1 is jnorm's choice), momentum 0.1 for the BN flavour.
 *
 * <p>Edge cases (§2.7): C not divisible by the groups is rejected at construction; the BN
 * flavour needs N·H·W ≥ 2 in training (rejected otherwise, naming this layer), EstBN takes any
 * N; a group of one value (C/G·H·W = 1) gives y = bias[g] and zero gradients except for bias.
 */
public final class BatchChannelNorm2d extends Module {
    private final int channels;
    private final int groups;
    private final double eps;
    private final boolean estimate;
    private final DType dtype;
    private final Device device;

    /** float32 on the CPU with every default (32 groups: C must be a multiple of 32). */
    public BatchChannelNorm2d(int channels) {
        this(builder(channels));
    }

    private BatchChannelNorm2d(Builder b) {
        this.channels = b.channels;
        this.groups = b.groups;
        this.eps = b.eps;
        this.estimate = b.estimate;
        this.dtype = b.dtype;
        this.device = b.device;
        if (channels <= 0 || groups <= 0) {
            throw new IllegalArgumentException(who() + ": channels and groups must be positive");
        }
        if (channels % groups != 0) {
            throw new IllegalArgumentException(who() + ": channels " + channels + " are not divisible by groups "
                    + groups + " (each group must hold C/G whole channels)");
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(who() + ": eps must be positive and finite, got " + eps);
        }
        if (estimate) {
            registerModule("bn", new EstBatchNorm2d(channels, eps, b.rate, dtype, device));
        } else {
            registerModule("bn", new BatchNorm2d(channels, eps, b.momentum, true, true, dtype, device));
        }
        registerParameter("weight", Tensor.full(1, Shape.of(groups), dtype, device));
        registerParameter("bias", Tensor.zeros(Shape.of(groups), dtype, device));
    }

    /** Options: 32 groups, eps 1e-5, estimate off, rate 0.1, momentum 0.1, float32, CPU. */
    public static Builder builder(int channels) {
        return new Builder(channels);
    }

    /**
     * @param x [N, C, H, W] of the layer's dtype and device
     * @throws IllegalArgumentException naming this layer for another rank, channel count, dtype or
     *         device, or one value per channel in training with the BN flavour
     */
    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.nchw(who(), x, channels, dtype, device);
        if (!estimate && isTraining() && x.numel() / channels < 2) {
            throw new IllegalArgumentException(who() + ": the batch-norm stage needs more than 1 value per channel "
                    + "in training, got input " + x.shape() + " (N·H·W = " + x.numel() / channels
                    + "); use estimate=true for single-value batches");
        }
        Tensor x1 = children().get("bn").forward(x);
        return BatchChannelNormOp.groupNormGroupAffine(x1, groups, parameter("weight"), parameter("bias"), eps);
    }

    /** The stage-1 module: a {@link BatchNorm2d} or an {@link EstBatchNorm2d}. */
    public Module bn() {
        return children().get("bn");
    }

    public int groups() {
        return groups;
    }

    public boolean estimate() {
        return estimate;
    }

    /** The layer as error messages name it. */
    private String who() {
        return "BatchChannelNorm2d(" + channels + ", groups=" + groups + ", estimate=" + estimate + ")";
    }

    @Override
    protected String extraRepr() {
        return channels + ", groups=" + groups + ", eps=" + eps + ", estimate=" + estimate;
    }

    /** Optional settings of a {@link BatchChannelNorm2d}. */
    public static final class Builder extends LayerBuilder<Builder> {
        private final int channels;
        private int groups = 32;
        private double eps = 1e-5;
        private boolean estimate;
        private double rate = 0.1;
        private Double momentum = 0.1;

        private Builder(int channels) {
            super("BatchChannelNorm2d(" + channels + ")");
            this.channels = channels;
        }

        public Builder groups(int g) {
            groups = g;
            return this;
        }

        public Builder eps(double e) {
            eps = e;
            return this;
        }

        /** Stage 1 as EstBN (true) or BatchNorm2d (false, the default). */
        public Builder estimate(boolean on) {
            estimate = on;
            return this;
        }

        /** EstBN's update rate r in [0, 1] (used when estimate is on). */
        public Builder rate(double r) {
            rate = r;
            return this;
        }

        /** The BatchNorm2d stage's momentum, or null for a cumulative average (estimate off). */
        public Builder momentum(Double m) {
            momentum = m;
            return this;
        }

        /** @throws IllegalArgumentException for C not divisible by the groups, bad eps, rate or momentum */
        public BatchChannelNorm2d build() {
            return new BatchChannelNorm2d(this);
        }
    }
}
