package io.jnorm.nn;

import io.jnorm.ops.norm.NormChecks;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Group normalization, PyTorch's {@code nn.GroupNorm(numGroups, numChannels, eps, affine)}:
 * statistics per (sample, group of C/G consecutive channels) over those channels and all
 * spatial positions of input (N, C, *); per-CHANNEL affine {@code weight} (C, init 1) and
 * {@code bias} (C, init 0). No running state: train and eval are identical. G = 1 is a layer
 * norm over (C, *) with per-channel affine; G = C has instance-norm statistics.
 *
 * <p>As in PyTorch, (N·C/G)·spatial must exceed 1 in either mode (so (1, 4, 1, 1) with 4 groups
 * fails, while (2, 4, 1, 1) passes and gives x̂ = 0).
 */
public final class GroupNorm extends Module {
    private final int numGroups;
    private final int numChannels;
    private final double eps;
    private final boolean affine;
    private final DType dtype;
    private final Device device;

    /** eps 1e-5, affine, float32 on the CPU. */
    public GroupNorm(int numGroups, int numChannels) {
        this(numGroups, numChannels, 1e-5, true, DType.F32, Device.CPU);
    }

    /**
     * @throws IllegalArgumentException when numChannels is not divisible by numGroups, or eps ≤ 0
     */
    public GroupNorm(int numGroups, int numChannels, double eps, boolean affine, DType dtype, Device device) {
        String who = "GroupNorm(" + numGroups + ", " + numChannels + ")";
        NormChecks.divisible(who, numChannels, numGroups);
        NormChecks.eps(who, eps);
        if (dtype == null || device == null) {
            throw new IllegalArgumentException(who + ": dtype and device must not be null");
        }
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
        this.affine = affine;
        this.dtype = dtype;
        this.device = device;
        if (affine) {
            registerParameter("weight", Tensor.full(1.0, Shape.of(numChannels), dtype, device));
            registerParameter("bias", Tensor.zeros(Shape.of(numChannels), dtype, device));
        }
    }

    private String who() {
        return "GroupNorm(" + numGroups + ", " + numChannels + ")";
    }

    public int numGroups() {
        return numGroups;
    }

    public int numChannels() {
        return numChannels;
    }

    public double eps() {
        return eps;
    }

    public boolean affine() {
        return affine;
    }

    /** The per-channel scale, or null when not affine. */
    public Tensor weight() {
        return parameter("weight");
    }

    /** The per-channel shift, or null when not affine. */
    public Tensor bias() {
        return parameter("bias");
    }

    @Override
    public Tensor forward(Tensor x) {
        NormChecks.minRank(who(), x, 2, "(N, C, *)");
        NormChecks.channels(who(), x, numChannels);
        if (x.dtype() != dtype || !x.device().equals(device)) {
            throw new IllegalArgumentException(who() + ": input " + x.shape() + " is " + x.dtype() + " on " + x.device()
                    + " but the layer is " + dtype + " on " + device);
        }
        NormChecks.groupNormSize(who(), x, numGroups);
        return NormOps.groupNorm(x, numGroups, weight(), bias(), eps);
    }

    @Override
    protected String extraRepr() {
        return numGroups + ", " + numChannels + ", eps=" + eps + ", affine=" + affine;
    }
}
