package io.jnorm.nn;

import io.jnorm.nn.init.Init;
import io.jnorm.ops.norm.UnifiedBatchNormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Unified Batch Normalization over NCHW input, as the co-author's layer computes it
 * (spec-brn-ubn-baselines.md §3; the paper's own equations could not be read, §3.8).
 *
 * <p><b>Stage 1, the condensation gate.</b> Every forward (in evaluation too, unless
 * {@code updateGateInEval(false)}) measures c, the mean off-diagonal cosine similarity of the
 * first {@code cosSamples} samples, and smooths it: moving_cos ← (1 − momentumCos)·moving_cos +
 * momentumCos·c (start 1). In training the layer uses batch statistics (and updates its running
 * statistics) only while the gate is open; otherwise it normalizes with the running statistics
 * and leaves them alone, while {@code num_batches_tracked} still counts the step. The gate is a
 * constant for backpropagation.
 *
 * <p><b>Stage 2, unified components.</b> xc = x + w_c·mean_hw(x) (RBN centering),
 * x̂ = (xc − μ)/sqrt(v + eps), s = sigmoid(w_s·mean_hw(x̂) + b_s) (RBN scaling),
 * y = s·(depthwise_conv_k(x̂) + b) (BNET affine), or y = s·x̂ without affine.
 *
 * <p>Parameters: {@code center_weight} [C] (0), {@code scale_weight} [C] (0),
 * {@code scale_bias} [C] (1), and with affine {@code conv_weight} [C, 1, k, k] and
 * {@code conv_bias} [C] (see {@link ConvInit}). Buffers: {@code running_mean} (0),
 * {@code running_var} (1), {@code num_batches_tracked} (integer), {@code moving_cos} (float64
 * scalar, 1). Unlike the original, moving_cos is saved state, and it is float64 whatever the
 * layer's dtype (the original compares in float32).
 *
 * <p>Choices where the sources leave room (§3.8), all options with the code's behaviour as the
 * default: the gate direction ({@link GateDirection}); whether evaluation moves the gate; the
 * conv init ({@link ConvInit}). The similarity is measured on the layer's input, over its first
 * {@code cosSamples} samples, as in the code. A NaN similarity makes moving_cos NaN, which closes
 * the gate in both directions for good, as in the code. Not offered: track_running_stats=False
 * (the code then fails as soon as the gate closes). The parameter names {@code conv_weight} and
 * {@code conv_bias} are jnorm's; the original's module layout for the conv is not known.
 */
public final class UnifiedBatchNorm2d extends Module {
    private static final String NAME = "UnifiedBatchNorm2d";

    /** When the gate lets batch statistics through, comparing moving_cos with the bound. */
    public enum GateDirection {
        /** The co-author's code: batch statistics while moving_cos &gt; bound. */
        BATCH_STATS_WHEN_ABOVE,
        /**
         * The reading of the abstract (high similarity = condensation = freeze the statistics):
         * batch statistics while moving_cos ≤ bound.
         */
        BATCH_STATS_WHEN_AT_OR_BELOW;

        boolean open(double movingCos, double bound) {
            return this == BATCH_STATS_WHEN_ABOVE ? movingCos > bound : movingCos <= bound;
        }
    }

    /** Initial depthwise kernel and bias of the BNET affine. */
    public enum ConvInit {
        /**
         * What the co-author's ResNet does (default): kaiming normal, fan_out (C·k²), relu gain,
         * so std = sqrt(2/(C·k²)); bias U(−1/k, 1/k), PyTorch's default (its init pass leaves
         * conv biases alone).
         */
        KAIMING_NORMAL_FAN_OUT,
        /** PyTorch's Conv2d default: kernel and bias U(−1/k, 1/k) (fan_in = k²). */
        PYTORCH_DEFAULT,
        /** Centre tap 1, everything else and the bias 0: the layer starts as sigmoid(b_s)·BN. */
        IDENTITY
    }

    private final int channels;
    private final double eps;
    private final Double momentum;
    private final double bound;
    private final double momentumCos;
    private final int cosSamples;
    private final int kernel;
    private final boolean affine;
    private final GateDirection gateDirection;
    private final boolean updateGateInEval;
    private final DType dtype;
    private final Device device;
    private boolean lastUsedBatchStats;

    /** A layer with the code's defaults, float32 on the CPU, conv init drawn from {@code new Rng(0)}. */
    public UnifiedBatchNorm2d(int channels) {
        this(builder(channels));
    }

    private UnifiedBatchNorm2d(Builder b) {
        if (b.channels <= 0) {
            throw new IllegalArgumentException(NAME + ": channels must be positive, got " + b.channels);
        }
        if (!(b.eps > 0) || !Double.isFinite(b.eps)) {
            throw new IllegalArgumentException(NAME + ": eps must be finite and > 0, got " + b.eps);
        }
        if (b.momentum != null && !(b.momentum >= 0 && b.momentum <= 1)) {
            throw new IllegalArgumentException(NAME + ": momentum must be in [0, 1], got " + b.momentum);
        }
        if (!Double.isFinite(b.bound)) {
            throw new IllegalArgumentException(NAME + ": bound must be finite, got " + b.bound);
        }
        if (!(b.momentumCos >= 0 && b.momentumCos <= 1)) {
            throw new IllegalArgumentException(NAME + ": momentumCos must be in [0, 1], got " + b.momentumCos);
        }
        if (b.cosSamples < 1) {
            throw new IllegalArgumentException(NAME + ": cosSamples must be at least 1, got " + b.cosSamples);
        }
        if (b.kernel < 1 || b.kernel % 2 == 0) {
            throw new IllegalArgumentException(NAME + ": kernel must be odd and positive (the conv keeps H and W), got "
                    + b.kernel);
        }
        channels = b.channels;
        eps = b.eps;
        momentum = b.momentum;
        bound = b.bound;
        momentumCos = b.momentumCos;
        cosSamples = b.cosSamples;
        kernel = b.kernel;
        affine = b.affine;
        gateDirection = b.gateDirection;
        updateGateInEval = b.updateGateInEval;
        dtype = b.dtype;
        device = b.device;
        Shape c = Shape.of(channels);
        registerParameter("center_weight", Tensor.zeros(c, dtype, device));
        registerParameter("scale_weight", Tensor.zeros(c, dtype, device));
        registerParameter("scale_bias", Tensor.full(1.0, c, dtype, device));
        if (affine) {
            Shape k = Shape.of(channels, 1, kernel, kernel);
            Rng rng = b.rng;
            Tensor weight;
            Tensor bias;
            switch (b.convInit) {
                case KAIMING_NORMAL_FAN_OUT -> {
                    weight = Init.kaimingNormal(rng, k, 0, Init.FanMode.FAN_OUT, Init.Nonlinearity.RELU, dtype, device);
                    bias = Init.defaultBias(rng, k, channels, dtype, device);
                }
                case PYTORCH_DEFAULT -> {
                    weight = Init.defaultWeight(rng, k, dtype, device);
                    bias = Init.defaultBias(rng, k, channels, dtype, device);
                }
                default -> {
                    double[] v = new double[channels * kernel * kernel];
                    for (int ch = 0; ch < channels; ch++) {
                        v[ch * kernel * kernel + kernel * kernel / 2] = 1;
                    }
                    weight = Tensor.fromDoubles(v, k, dtype, device);
                    bias = Tensor.zeros(c, dtype, device);
                }
            }
            registerParameter("conv_weight", weight);
            registerParameter("conv_bias", bias);
        }
        registerBuffer("running_mean", Tensor.zeros(c, dtype, device));
        registerBuffer("running_var", Tensor.full(1.0, c, dtype, device));
        registerBuffer("num_batches_tracked", Tensor.scalar(0, DType.F64, device), true);
        registerBuffer("moving_cos", Tensor.scalar(1.0, DType.F64, device));
    }

    public static Builder builder(int channels) {
        return new Builder(channels);
    }

    /** Options of {@link UnifiedBatchNorm2d}, defaults from the co-author's code; setters return this builder. */
    public static final class Builder extends LayerBuilder<Builder> {
        private final int channels;
        private double eps = 1e-5;
        private Double momentum = 0.1;
        private double bound = 0.15;
        private double momentumCos = 0.1;
        private int cosSamples = 16;
        private int kernel = 3;
        private boolean affine = true;
        private GateDirection gateDirection = GateDirection.BATCH_STATS_WHEN_ABOVE;
        private boolean updateGateInEval = true;
        private ConvInit convInit = ConvInit.KAIMING_NORMAL_FAN_OUT;
        private Rng rng = new Rng(0);

        private Builder(int channels) {
            super(NAME + "(" + channels + ")");
            this.channels = channels;
        }

        public Builder eps(double v) {
            eps = v;
            return this;
        }

        /** Running-statistic momentum in PyTorch's convention (weight of the new batch). */
        public Builder momentum(double v) {
            momentum = v;
            return this;
        }

        /** momentum = None: a cumulative average with factor 1/num_batches_tracked (gated steps count). */
        public Builder cumulativeAverage() {
            momentum = null;
            return this;
        }

        /** The similarity threshold of the gate (0.15; 0.2 in the code's first version). */
        public Builder bound(double v) {
            bound = v;
            return this;
        }

        public Builder momentumCos(double v) {
            momentumCos = v;
            return this;
        }

        /** How many leading samples the similarity uses (16). */
        public Builder cosSamples(int v) {
            cosSamples = v;
            return this;
        }

        /** Depthwise kernel size k, odd (3). */
        public Builder kernel(int v) {
            kernel = v;
            return this;
        }

        /** false drops the depthwise conv: y = s·x̂. */
        public Builder affine(boolean on) {
            affine = on;
            return this;
        }

        public Builder gateDirection(GateDirection d) {
            gateDirection = java.util.Objects.requireNonNull(d, "gateDirection");
            return this;
        }

        /** false: evaluation passes leave moving_cos alone (the code moves it). */
        public Builder updateGateInEval(boolean on) {
            updateGateInEval = on;
            return this;
        }

        public Builder convInit(ConvInit init) {
            convInit = java.util.Objects.requireNonNull(init, "convInit");
            return this;
        }

        /** The generator of the conv init. */
        public Builder rng(Rng r) {
            rng = java.util.Objects.requireNonNull(r, "rng");
            return this;
        }

        public UnifiedBatchNorm2d build() {
            return new UnifiedBatchNorm2d(this);
        }
    }

    /**
     * @throws IllegalArgumentException for input that is not [N, C, H, W] with this layer's C,
     *                                  dtype and device, or, when the gate selects batch
     *                                  statistics in training, has only one value per channel
     *                                  (the layer's state is then left unchanged)
     */
    @Override
    public Tensor forward(Tensor x) {
        LayerChecks.nchw(NAME, x, channels, dtype, device);
        boolean training = isTraining();
        double cos = movingCos();
        if (training || updateGateInEval) {
            double c = UnifiedBatchNormOps.meanPairwiseCosine(x, cosSamples);
            cos = (1 - momentumCos) * cos + momentumCos * c;
        }
        boolean batch = training && gateDirection.open(cos, bound);
        long perChannel = (long) x.dim(0) * x.dim(2) * x.dim(3);
        if (batch && perChannel < 2) {
            throw new IllegalArgumentException(NAME + ": expected more than 1 value per channel when training with "
                    + "batch statistics, got input " + x.shape());
        }
        UnifiedBatchNormOps.Output out = UnifiedBatchNormOps.unifiedBatchNorm2d(x, parameter("center_weight"),
                parameter("scale_weight"), parameter("scale_bias"), parameter("conv_weight"), parameter("conv_bias"),
                buffer("running_mean"), buffer("running_var"), batch, eps);
        if (training || updateGateInEval) {
            setBuffer("moving_cos", Tensor.scalar(cos, DType.F64, device));
        }
        if (training) {
            double tracked = buffer("num_batches_tracked").item() + 1;
            setBuffer("num_batches_tracked", Tensor.scalar(tracked, DType.F64, device));
            if (batch) {
                double factor = momentum != null ? momentum : 1.0 / tracked;
                UnifiedBatchNormOps.updateRunningStats(out, perChannel, factor, buffer("running_mean"),
                        buffer("running_var"));
                if (out.y().gradFn() == null) {
                    out.batchMean().close();
                    out.batchVar().close();
                }
            }
        }
        lastUsedBatchStats = batch;
        return out.y();
    }

    /** The smoothed similarity the gate compares with the bound. */
    public double movingCos() {
        return buffer("moving_cos").item();
    }

    /** Whether a training forward would now use batch statistics, before this step's similarity moves it. */
    public boolean gateOpen() {
        return gateDirection.open(movingCos(), bound);
    }

    /** Whether the last forward normalized with batch statistics (false in evaluation). */
    public boolean lastUsedBatchStats() {
        return lastUsedBatchStats;
    }

    @Override
    protected void validateLoadedBuffer(String name, Tensor value) {
        if (name.equals("running_var")) {
            for (double v : value.toDoubleArray()) {
                if (v < 0) {
                    throw new IllegalArgumentException("running_var must be >= 0, found " + v);
                }
            }
        }
    }

    @Override
    protected String extraRepr() {
        return channels + ", eps=" + eps + ", momentum=" + momentum + ", bound=" + bound + ", momentumCos="
                + momentumCos + ", cosSamples=" + cosSamples + ", kernel=" + kernel + ", affine=" + affine
                + ", gate=" + gateDirection + ", updateGateInEval=" + updateGateInEval;
    }

    public int channels() {
        return channels;
    }

    public double eps() {
        return eps;
    }

    /** The PyTorch-convention momentum, or null for a cumulative average. */
    public Double momentum() {
        return momentum;
    }

    public double bound() {
        return bound;
    }

    public double momentumCos() {
        return momentumCos;
    }

    public int cosSamples() {
        return cosSamples;
    }

    public int kernel() {
        return kernel;
    }

    public boolean affine() {
        return affine;
    }

    public GateDirection gateDirection() {
        return gateDirection;
    }

    public boolean updateGateInEval() {
        return updateGateInEval;
    }
}
