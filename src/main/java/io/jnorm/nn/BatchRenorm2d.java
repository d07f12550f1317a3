package io.jnorm.nn;

import io.jnorm.ops.norm.BatchRenormOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Batch Renormalization over NCHW input (Ioffe 2017, Algorithm 1; see {@link BatchRenormOp}
 * for the maths). In training, r = σ_B/σ and d = (μ_B − μ)/σ come from the moving statistics as
 * they were before this step, clipped to [1/r_max, r_max] and [−d_max, d_max] with the limits
 * that the {@link RenormSchedule} gives for this layer's step counter, and are constants for the
 * backward; then the moving statistics move toward the batch ones. In evaluation the moving
 * statistics normalize: y = γ·(x − μ)/σ + β.
 *
 * <p>Parameters {@code weight} (γ = 1) and {@code bias} (β = 0), [C], when affine. Buffers, all
 * saved with the state: {@code running_mean} (μ = 0), {@code running_std} (σ = 1; the paper's
 * moving standard deviation, not a variance) and {@code num_steps} (a float64 scalar counting
 * training forward passes; it drives the schedule, so a reloaded layer resumes the ramp where
 * it stopped). Defaults: eps 1e-5, momentum 0.01 in PyTorch's convention
 * (new = (1 − m)·old + m·batch, the paper's α), affine, {@link RenormSchedule#paper()}.
 */
public final class BatchRenorm2d extends Module {
    private final int channels;
    private final double eps;
    private final double momentum;
    private final RenormSchedule schedule;
    private final DType dtype;
    private final Device device;

    /** float32 on the CPU with every default. */
    public BatchRenorm2d(int channels) {
        this(builder(channels));
    }

    private BatchRenorm2d(Builder b) {
        this.channels = b.channels;
        this.eps = b.eps;
        this.momentum = b.momentum;
        this.schedule = b.schedule;
        this.dtype = b.dtype;
        this.device = b.device;
        if (channels <= 0) {
            throw new IllegalArgumentException("BatchRenorm2d: channels must be positive, got " + channels);
        }
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(who() + ": eps must be finite and > 0, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException(who() + ": momentum must be in [0, 1], got " + momentum);
        }
        if (schedule == null) {
            throw new IllegalArgumentException(who() + ": schedule must be non-null");
        }
        Shape cs = Shape.of(channels);
        if (b.affine) {
            registerParameter("weight", Tensor.full(1, cs, b.dtype, b.device));
            registerParameter("bias", Tensor.zeros(cs, b.dtype, b.device));
        }
        registerBuffer("running_mean", Tensor.zeros(cs, b.dtype, b.device));
        registerBuffer("running_std", Tensor.full(1, cs, b.dtype, b.device));
        registerBuffer("num_steps", Tensor.scalar(0, DType.F64, b.device), true);
    }

    /** Options: eps 1e-5, momentum 0.01, affine, the paper's schedule, float32, CPU. */
    public static Builder builder(int channels) {
        return new Builder(channels);
    }

    /**
     * @param x [N, C, H, W]
     * @throws IllegalArgumentException naming this layer for another rank, channel count, dtype or device
     */
    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.nchw(who(), x, channels, dtype, device);
        Tensor w = parameter("weight");
        Tensor b = parameter("bias");
        if (!isTraining()) {
            return BatchRenormOp.eval(x, w, b, buffer("running_mean"), buffer("running_std"), eps);
        }
        long t = step();
        BatchRenormOp.Step s = BatchRenormOp.train(x, w, b, buffer("running_mean"), buffer("running_std"),
                schedule.rmax(t), schedule.dmax(t), momentum, eps);
        s.r().close();
        s.d().close();
        setBuffer("num_steps", Tensor.scalar(t + 1, DType.F64, buffer("num_steps").device()));
        return s.y();
    }

    /** Training steps taken so far (the schedule's t for the next training forward). */
    public long step() {
        return (long) buffer("num_steps").item();
    }

    public RenormSchedule schedule() {
        return schedule;
    }

    /** The layer as error messages name it. */
    private String who() {
        return "BatchRenorm2d(" + channels + ", eps=" + eps + ", momentum=" + momentum + ")";
    }

    @Override
    protected String extraRepr() {
        return channels + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + (parameter("weight") != null)
                + ", schedule=" + schedule;
    }

    /** A moving standard deviation is ≥ 0 and the step counter counts up from 0. */
    @Override
    protected void validateLoadedBuffer(String name, Tensor value) {
        if (name.equals("running_std") || name.equals("num_steps")) {
            double[] v = value.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                if (v[i] < 0) {
                    throw new IllegalArgumentException(name + "[" + i + "] = " + v[i] + " is negative ("
                            + (name.equals("num_steps") ? "a step count" : "a standard deviation") + ")");
                }
            }
        }
    }

    /** Optional settings of a {@link BatchRenorm2d}. */
    public static final class Builder extends LayerBuilder<Builder> {
        private final int channels;
        private double eps = 1e-5;
        private double momentum = 0.01;
        private boolean affine = true;
        private RenormSchedule schedule = RenormSchedule.paper();

        private Builder(int channels) {
            super("BatchRenorm2d(" + channels + ")");
            this.channels = channels;
        }

        public Builder eps(double e) {
            eps = e;
            return this;
        }

        /** Weight of the batch statistics in the moving averages (PyTorch convention). */
        public Builder momentum(double m) {
            momentum = m;
            return this;
        }

        public Builder affine(boolean on) {
            affine = on;
            return this;
        }

        public Builder schedule(RenormSchedule s) {
            schedule = s;
            return this;
        }

        /** @throws IllegalArgumentException for non-positive channels or eps, momentum outside [0, 1] */
        public BatchRenorm2d build() {
            return new BatchRenorm2d(this);
        }
    }
}
