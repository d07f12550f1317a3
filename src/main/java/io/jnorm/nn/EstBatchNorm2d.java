package io.jnorm.nn;

import io.jnorm.ops.norm.BatchChannelNormOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * EstBN, the micro-batch first stage of Batch-Channel Normalization (the BCN README's
 * {@code EstBN}; spec-ws-bcn-sn.md §2.2): per-channel estimates μ̂, σ̂² moved toward each training
 * batch at rate r without gradient, then used (already updated) to normalize, as constants:
 * y = γ·(x − μ̂)/sqrt(σ̂² + eps) + β. Evaluation normalizes with the stored estimates and does
 * not update them. Works for any batch size, one value per channel included.
 *
 * <p>Parameters {@code weight} (γ = 1), {@code bias} (β = 0), [C]. Buffers, saved with the state:
 * {@code running_mean} (μ̂ = 0), {@code running_var} (σ̂² = 1), {@code estbn_moving_speed} (r, one
 * value of the layer's dtype; the official code initializes it to 0 and no released script sets
 * it, which freezes the estimates; jnorm's default is 0.1). The official buffer
 * {@code num_batches_tracked}, never incremented there, is not kept.
 */
public final class EstBatchNorm2d extends Module {
    private final int channels;
    private final double eps;
    private final DType dtype;
    private final Device device;

    /**
     * @param rate r in [0, 1]
     * @throws IllegalArgumentException for channels ≤ 0, eps ≤ 0, rate outside [0, 1]
     */
    public EstBatchNorm2d(int channels, double eps, double rate, DType dtype, Device device) {
        this.channels = channels;
        this.eps = eps;
        this.dtype = dtype;
        this.device = device;
        if (channels <= 0) {
            throw new IllegalArgumentException("EstBatchNorm2d: channels must be positive, got " + channels);
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(who() + ": eps must be positive and finite, got " + eps);
        }
        if (dtype == null || device == null) {
            throw new IllegalArgumentException(who() + ": dtype and device must be non-null");
        }
        if (!(rate >= 0 && rate <= 1)) {
            throw new IllegalArgumentException(who() + ": rate (estbn_moving_speed) must be in [0, 1], got " + rate);
        }
        Shape cs = Shape.of(channels);
        registerParameter("weight", Tensor.full(1, cs, dtype, device));
        registerParameter("bias", Tensor.zeros(cs, dtype, device));
        registerBuffer("running_mean", Tensor.zeros(cs, dtype, device));
        registerBuffer("running_var", Tensor.full(1, cs, dtype, device));
        registerBuffer("estbn_moving_speed", Tensor.full(rate, Shape.of(1), dtype, device));
    }

    /**
     * @param x [N, C, H, W] of the layer's dtype and device
     * @throws IllegalArgumentException naming this layer for another rank, channel count, dtype or device
     */
    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.nchw(who(), x, channels, dtype, device);
        return BatchChannelNormOp.estimatedBatchNorm(x, parameter("weight"), parameter("bias"),
                buffer("running_mean"), buffer("running_var"), rate(), isTraining(), eps);
    }

    /** The update rate r, read from its buffer (so a loaded state brings its own). */
    public double rate() {
        return buffer("estbn_moving_speed").item();
    }

    /** The layer as error messages name it. */
    private String who() {
        return "EstBatchNorm2d(" + channels + ", eps=" + eps + ")";
    }

    @Override
    protected String extraRepr() {
        return channels + ", eps=" + eps + ", rate=" + rate();
    }

    /** The rate must stay in [0, 1] and a variance estimate ≥ 0. */
    @Override
    protected void validateLoadedBuffer(String name, Tensor value) {
        double[] v = value.toDoubleArray();
        for (int i = 0; i < v.length; i++) {
            if (name.equals("estbn_moving_speed") && !(v[i] >= 0 && v[i] <= 1)) {
                throw new IllegalArgumentException("estbn_moving_speed = " + v[i] + " is outside [0, 1]");
            }
            if (name.equals("running_var") && v[i] < 0) {
                throw new IllegalArgumentException("running_var[" + i + "] = " + v[i] + " is negative (a variance)");
            }
        }
    }
}
