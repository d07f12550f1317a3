package io.jnorm.nn;

import io.jnorm.ops.norm.NormChecks;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * State shared by per-channel normalization layers with optional running statistics (PyTorch's
 * {@code _NormBase}): parameters {@code weight} (C, init 1) and {@code bias} (C, init 0) when
 * affine; buffers {@code running_mean} (C, init 0), {@code running_var} (C, init 1) and
 * {@code num_batches_tracked} (0-d, init 0) when tracking running statistics. Names match
 * PyTorch's state dict.
 *
 * <p>{@code num_batches_tracked} is a float64 scalar on the module's device whatever the module's
 * dtype (jnorm has no int64), registered as an integer buffer: exact up to 2^53 steps, saved as
 * int64 like PyTorch's.
 */
public abstract class NormBase extends Module {
    private final int numFeatures;
    private final double eps;
    private final Double momentum;
    private final boolean affine;
    private final boolean trackRunningStats;
    private final DType dtype;
    private final Device device;

    /**
     * @param momentum weight of the new batch statistics in the running average, or null for a
     *                 cumulative average (factor 1/num_batches_tracked)
     * @throws IllegalArgumentException for numFeatures ≤ 0, eps ≤ 0, a non-finite momentum
     */
    protected NormBase(int numFeatures, double eps, Double momentum, boolean affine, boolean trackRunningStats,
                       DType dtype, Device device) {
        String who = getClass().getSimpleName() + "(" + numFeatures + ")";
        if (numFeatures <= 0) {
            throw new IllegalArgumentException(who + ": numFeatures must be positive, got " + numFeatures);
        }
        NormChecks.eps(who, eps);
        if (momentum != null) {
            NormChecks.momentum(who, momentum);
        }
        if (dtype == null || device == null) {
            throw new IllegalArgumentException(who + ": dtype and device must not be null");
        }
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        this.affine = affine;
        this.trackRunningStats = trackRunningStats;
        this.dtype = dtype;
        this.device = device;
        Shape c = Shape.of(numFeatures);
        if (affine) {
            registerParameter("weight", Tensor.full(1.0, c, dtype, device));
            registerParameter("bias", Tensor.zeros(c, dtype, device));
        }
        if (trackRunningStats) {
            registerBuffer("running_mean", Tensor.zeros(c, dtype, device));
            registerBuffer("running_var", Tensor.full(1.0, c, dtype, device));
            registerBuffer("num_batches_tracked", Tensor.scalar(0, DType.F64, device), true);
        }
    }

    /** Layer name with its size, for messages: "BatchNorm2d(3)". */
    protected String who() {
        return getClass().getSimpleName() + "(" + numFeatures + ")";
    }

    public int numFeatures() {
        return numFeatures;
    }

    public double eps() {
        return eps;
    }

    /** The momentum, or null for a cumulative moving average. */
    public Double momentum() {
        return momentum;
    }

    public boolean affine() {
        return affine;
    }

    public boolean trackRunningStats() {
        return trackRunningStats;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return device;
    }

    /** The scale (C), or null when not affine. */
    public Tensor weight() {
        return parameter("weight");
    }

    /** The shift (C), or null when not affine. */
    public Tensor bias() {
        return parameter("bias");
    }

    /** Running mean (C), or null when running statistics are not tracked. */
    public Tensor runningMean() {
        return buffer("running_mean");
    }

    /** Running (unbiased) variance (C), or null when running statistics are not tracked. */
    public Tensor runningVar() {
        return buffer("running_var");
    }

    /** Training steps counted so far (a 0-d float64 tensor), or null when not tracked. */
    public Tensor numBatchesTracked() {
        return buffer("num_batches_tracked");
    }

    /** running_mean = 0, running_var = 1, num_batches_tracked = 0 (no-op when not tracked). */
    public void resetRunningStats() {
        if (trackRunningStats) {
            Shape c = Shape.of(numFeatures);
            setBuffer("running_mean", Tensor.zeros(c, dtype, device));
            setBuffer("running_var", Tensor.full(1.0, c, dtype, device));
            setBuffer("num_batches_tracked", Tensor.scalar(0, DType.F64, device));
        }
    }

    /**
     * Input must be (N, C, ...) with C = numFeatures; the layer name is in the message.
     */
    protected void checkChannels(Tensor x) {
        NormChecks.channels(who(), x, numFeatures);
        LayerChecks.dtypeAndDevice(who(), x, dtype, device);
    }

    /** A negative running variance would turn every eval output into NaN: refuse to load one. */
    @Override
    protected void validateLoadedBuffer(String name, Tensor value) {
        if (name.equals("running_var")) {
            double[] v = value.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                if (v[i] < 0) {
                    throw new IllegalArgumentException("running_var[" + i + "] = " + v[i]
                            + " is negative (a variance; eval would give NaN)");
                }
            }
        }
    }

    @Override
    protected String extraRepr() {
        return numFeatures + ", eps=" + eps + ", momentum=" + momentum + ", affine=" + affine
                + ", trackRunningStats=" + trackRunningStats;
    }
}
