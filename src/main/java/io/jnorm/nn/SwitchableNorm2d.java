package io.jnorm.nn;

import io.jnorm.autograd.GradMode;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.SwitchableNormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Switchable Normalization over NCHW input, as the official {@code SwitchNorm2d} computes it
 * (spec-ws-bcn-sn.md §3; normalization-spec.md):
 * IN statistics with the unbiased variance (so H·W must be at least 2), LN and BN statistics
 * derived from them, and two separate softmaxes over the (IN, LN, BN) logits
 * {@code mean_weight} and {@code var_weight}, both initialized to ones. Everything is
 * differentiable in training; in evaluation the BN statistics are the running ones, used as
 * constants, while both logit vectors still receive gradient.
 *
 * <p>Parameters: {@code weight} [C] (1, or 0 with {@code lastGamma}), {@code bias} [C] (0),
 * {@code mean_weight} and {@code var_weight} [3] (or [2] without BN). Buffers with BN:
 * {@code running_mean} and {@code running_var} [C], both initialized to 0 as in the official code.
 *
 * <p>Running statistics, two modes:
 * <ul>
 *   <li>moving average (default): R ← momentum·R + (1 − momentum)·batch, where {@code momentum}
 *       is a KEEP factor (default 0.9), the opposite of PyTorch's convention;</li>
 *   <li>batch average ({@code movingAverage(false)}): each training forward adds this batch's
 *       BN mean and mean² + var to the buffers {@code batch_average_mean_sum},
 *       {@code batch_average_var_sum} and counts it in {@code batch_average_count};
 *       {@link #finalizeBatchAverage()} then sets running_mean = S_mean/K and
 *       running_var = S_var/K − running_mean², the pooled statistics of the K batches (each
 *       batch weighs the same, as in the script). This is
 *       the 2018 training script's recipe ({@link #resetBatchAverage()}, K train-mode forwards
 *       without gradient, finalize); unlike the official module, the running buffers never hold
 *       un-normalized sums.</li>
 * </ul>
 *
 * <p>Edge cases (spec §3.7): H·W &lt; 2 is rejected (the unbiased instance variance would be
 * 0/0); N = 1 in training makes BN equal IN and stays finite; evaluation before any training
 * uses the zero running statistics and stays finite through eps. The official (1, C, 1) buffers
 * and (1, C, 1, 1) affine are stored here as [C].
 */
public final class SwitchableNorm2d extends Module {
    private static final String NAME = "SwitchableNorm2d";

    private final int channels;
    private final double eps;
    private final double momentum;
    private final boolean movingAverage;
    private final boolean usingBn;
    private final boolean lastGamma;
    private final DType dtype;
    private final Device device;

    /**
     * A layer with the official defaults: eps 1e-5, keep momentum 0.9, moving average, BN mixed,
     * float32 on the CPU.
     */
    public SwitchableNorm2d(int channels) {
        this(builder(channels));
    }

    private SwitchableNorm2d(Builder b) {
        if (b.channels <= 0) {
            throw new IllegalArgumentException(NAME + ": channels must be positive, got " + b.channels);
        }
        if (!Double.isFinite(b.eps) || b.eps < 0) {
            throw new IllegalArgumentException(NAME + ": eps must be finite and >= 0, got " + b.eps);
        }
        if (!(b.momentum >= 0 && b.momentum <= 1)) {
            throw new IllegalArgumentException(NAME + ": momentum is a keep factor in [0, 1], got " + b.momentum);
        }
        this.channels = b.channels;
        this.eps = b.eps;
        this.momentum = b.momentum;
        this.movingAverage = b.movingAverage;
        this.usingBn = b.usingBn;
        this.lastGamma = b.lastGamma;
        this.dtype = b.dtype;
        this.device = b.device;
        Shape c = Shape.of(channels);
        int terms = usingBn ? 3 : 2;
        registerParameter("weight", Tensor.full(lastGamma ? 0.0 : 1.0, c, dtype, device));
        registerParameter("bias", Tensor.zeros(c, dtype, device));
        registerParameter("mean_weight", Tensor.full(1.0, Shape.of(terms), dtype, device));
        registerParameter("var_weight", Tensor.full(1.0, Shape.of(terms), dtype, device));
        if (usingBn) {
            registerBuffer("running_mean", Tensor.zeros(c, dtype, device));
            registerBuffer("running_var", Tensor.zeros(c, dtype, device));
            if (!movingAverage) {
                registerBuffer("batch_average_mean_sum", Tensor.zeros(c, dtype, device));
                registerBuffer("batch_average_var_sum", Tensor.zeros(c, dtype, device));
                registerBuffer("batch_average_count", Tensor.scalar(0, DType.F64, device), true);
            }
        }
    }

    public static Builder builder(int channels) {
        return new Builder(channels);
    }

    /** Options of {@link SwitchableNorm2d}; every setter returns this builder. */
    public static final class Builder extends LayerBuilder<Builder> {
        private final int channels;
        private double eps = 1e-5;
        private double momentum = 0.9;
        private boolean movingAverage = true;
        private boolean usingBn = true;
        private boolean lastGamma;

        private Builder(int channels) {
            super(NAME + "(" + channels + ")");
            this.channels = channels;
        }

        public Builder eps(double v) {
            eps = v;
            return this;
        }

        /** The KEEP factor of the moving average (official default 0.9; 0.997 before 2019-03). */
        public Builder momentum(double keep) {
            momentum = keep;
            return this;
        }

        /** false selects batch-average running statistics (see the class comment). */
        public Builder movingAverage(boolean on) {
            movingAverage = on;
            return this;
        }

        /** false mixes IN and LN only (2 logits, no running statistics). */
        public Builder usingBn(boolean on) {
            usingBn = on;
            return this;
        }

        /** true initializes weight to 0 (the last SN of a residual block). */
        public Builder lastGamma(boolean on) {
            lastGamma = on;
            return this;
        }

        public SwitchableNorm2d build() {
            return new SwitchableNorm2d(this);
        }
    }

    /**
     * @throws IllegalArgumentException for input that is not [N, C, H, W] with this layer's C,
     *                                  dtype and device, or has H·W &lt; 2
     */
    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.nchw(NAME, x, channels, dtype, device);
        boolean training = isTraining();
        // The moving average happens inside the statistics kernel (no launches of its own).
        boolean moveRunning = training && usingBn && movingAverage;
        SwitchableNormOps.Output out = SwitchableNormOps.switchableNorm2d(x, parameter("mean_weight"),
                parameter("var_weight"), parameter("weight"), parameter("bias"),
                buffer("running_mean"), buffer("running_var"), training, eps, moveRunning, momentum);
        if (training && usingBn) {
            if (!movingAverage) {
                // setBuffer copies the new sums into the buffers; the intermediates die with the scope.
                try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
                    accumulate(out.batchMean(), out.batchVar());
                }
            }
            if (out.y().gradFn() == null) {
                out.batchMean().close();
                out.batchVar().close();
            }
        }
        return out.y();
    }

    private void accumulate(Tensor mean, Tensor var) {
        setBuffer("batch_average_mean_sum", Ops.add(buffer("batch_average_mean_sum"), mean));
        setBuffer("batch_average_var_sum", Ops.add(buffer("batch_average_var_sum"), Ops.add(Ops.mul(mean, mean), var)));
        double k = buffer("batch_average_count").item();
        setBuffer("batch_average_count", Tensor.scalar(k + 1, DType.F64, device));
    }

    /** Clears the batch-average sums and count (batch-average mode only). */
    public void resetBatchAverage() {
        requireBatchAverage("resetBatchAverage");
        setBuffer("batch_average_mean_sum", Tensor.zeros(Shape.of(channels), dtype, device));
        setBuffer("batch_average_var_sum", Tensor.zeros(Shape.of(channels), dtype, device));
        setBuffer("batch_average_count", Tensor.scalar(0, DType.F64, device));
    }

    /**
     * Sets the running statistics to the pooled statistics of the batches accumulated since the
     * last reset: running_mean = S_mean/K, running_var = S_var/K − running_mean². The sums are
     * kept, so calling it twice gives the same result.
     *
     * @throws IllegalStateException when no training batch was accumulated
     */
    public void finalizeBatchAverage() {
        requireBatchAverage("finalizeBatchAverage");
        double k = buffer("batch_average_count").item();
        if (k == 0) {
            throw new IllegalStateException(NAME + ": finalizeBatchAverage with no accumulated batch; "
                    + "run training-mode forward passes after resetBatchAverage() first");
        }
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            Tensor inv = Tensor.scalar(1.0 / k, dtype, device);
            Tensor mean = Ops.mul(buffer("batch_average_mean_sum"), inv);
            Tensor var = Ops.sub(Ops.mul(buffer("batch_average_var_sum"), inv), Ops.mul(mean, mean));
            setBuffer("running_mean", mean);
            setBuffer("running_var", var);
        }
    }

    private void requireBatchAverage(String method) {
        if (!usingBn || movingAverage) {
            throw new IllegalStateException(NAME + ": " + method + " needs batch-average mode (usingBn on, "
                    + "movingAverage off); this layer has usingBn=" + usingBn + ", movingAverage=" + movingAverage);
        }
    }

    /**
     * The 2018 training script's recipe in one call: resets every batch-average SwitchableNorm2d
     * in {@code net}, runs each batch through {@code net} in training mode without gradient,
     * finalizes, and restores {@code net}'s previous mode (on every descendant, as
     * {@link Module#train(boolean)} sets it). Other layers of {@code net} with
     * running state see these training-mode passes too, as they did in the script.
     *
     * @throws IllegalStateException when {@code batches} is empty and net has such a layer
     */
    public static void recomputeBatchAverages(Module net, Iterable<Tensor> batches) {
        boolean wasTraining = net.isTraining();
        resetBatchAverages(net);
        net.train(true);
        try (GradMode.Guard g = GradMode.noGrad()) {
            for (Tensor batch : batches) {
                try (Scope scope = Scope.open()) {
                    net.forward(batch);
                }
            }
            finalizeBatchAverages(net);
        } finally {
            net.train(wasTraining);
        }
    }

    /** {@link #resetBatchAverage()} on every batch-average SwitchableNorm2d in a network. */
    public static void resetBatchAverages(Module root) {
        forEachBatchAverage(root, true);
    }

    /** {@link #finalizeBatchAverage()} on every batch-average SwitchableNorm2d in a network. */
    public static void finalizeBatchAverages(Module root) {
        forEachBatchAverage(root, false);
    }

    private static void forEachBatchAverage(Module m, boolean reset) {
        if (m instanceof SwitchableNorm2d sn && sn.usingBn && !sn.movingAverage) {
            if (reset) {
                sn.resetBatchAverage();
            } else {
                sn.finalizeBatchAverage();
            }
        }
        m.children().values().forEach(child -> forEachBatchAverage(child, reset));
    }

    /**
     * The batch-average sums feed the running statistics at the next finalize: a NaN or infinity
     * there would poison them, so it is refused like one in the running statistics themselves.
     */
    @Override
    protected void validateLoadedBuffer(String name, Tensor value) {
        if (name.startsWith("batch_average_") && !name.equals("batch_average_count")) {
            double[] v = value.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                if (!Double.isFinite(v[i])) {
                    throw new IllegalArgumentException(name + "[" + i + "] = " + v[i] + " is not finite (a sum the "
                            + "next finalizeBatchAverage turns into running statistics)");
                }
            }
        }
    }

    @Override
    protected String extraRepr() {
        return channels + ", eps=" + eps + ", momentum=" + momentum + ", movingAverage=" + movingAverage
                + ", usingBn=" + usingBn + ", lastGamma=" + lastGamma;
    }

    public int channels() {
        return channels;
    }

    public double eps() {
        return eps;
    }

    /** The keep factor of the moving average. */
    public double momentum() {
        return momentum;
    }

    public boolean movingAverage() {
        return movingAverage;
    }

    public boolean usingBn() {
        return usingBn;
    }

    public boolean lastGamma() {
        return lastGamma;
    }
}
