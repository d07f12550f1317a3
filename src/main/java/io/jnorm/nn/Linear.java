package io.jnorm.nn;

import io.jnorm.nn.init.Init;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * y = x W^T + b over the last axis, as {@code torch.nn.Linear}: weight [out, in], bias [out].
 * Initialized as PyTorch does, from a seeded generator: weight by kaiming uniform with
 * a = sqrt 5 (U(±1/sqrt(in))), bias U(±1/sqrt(in)).
 */
public final class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;

    /** float32 on the CPU, with a bias. */
    public Linear(int inFeatures, int outFeatures, Rng rng) {
        this(inFeatures, outFeatures, true, DType.F32, Device.CPU, rng);
    }

    public Linear(int inFeatures, int outFeatures, boolean bias, DType dtype, Device device, Rng rng) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear: in and out features must be positive, got in=" + inFeatures
                    + ", out=" + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        Shape w = Shape.of(outFeatures, inFeatures);
        registerParameter("weight", Init.defaultWeight(rng, w, dtype, device));
        if (bias) {
            registerParameter("bias", Init.defaultBias(rng, w, outFeatures, dtype, device));
        }
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    public Tensor weight() {
        return parameter("weight");
    }

    /** The bias, or null for a layer built without one. */
    public Tensor bias() {
        return parameter("bias");
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() < 1 || x.dim(-1) != inFeatures) {
            throw new IllegalArgumentException("Linear(in=" + inFeatures + ", out=" + outFeatures
                    + "): input must end with an axis of " + inFeatures + ", got shape " + x.shape());
        }
        LayerChecks.dtypeAndDevice("Linear(in=" + inFeatures + ", out=" + outFeatures + ")", x, weight().dtype(),
                weight().device());
        return Ops.linear(x, weight(), bias());
    }

    @Override
    protected String extraRepr() {
        return "in=" + inFeatures + ", out=" + outFeatures + ", bias=" + (bias() != null);
    }
}
