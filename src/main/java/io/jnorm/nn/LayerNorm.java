package io.jnorm.nn;

import io.jnorm.ops.norm.NormChecks;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/**
 * Layer normalization, PyTorch's {@code nn.LayerNorm(normalizedShape, eps, elementwiseAffine)}:
 * one statistic per leading index over the trailing {@code normalizedShape} dims, with
 * ELEMENTWISE affine {@code weight} and {@code bias} of shape normalizedShape (init 1, 0). No
 * running state: train and eval are identical. {@code LayerNorm(C, H, W)} on images has a
 * (C, H, W) weight, unlike GroupNorm(1, C). A normalized size of 1 gives y = bias and dx = 0.
 */
public final class LayerNorm extends Module {
    private final int[] normalizedShape;
    private final double eps;
    private final boolean elementwiseAffine;
    private final DType dtype;
    private final Device device;

    /** eps 1e-5, elementwise affine, float32 on the CPU. */
    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5, true, DType.F32, Device.CPU);
    }

    /**
     * @param normalizedShape the trailing dims to normalize over, at least one, all positive
     * @throws IllegalArgumentException for an empty or non-positive normalizedShape, or eps ≤ 0
     */
    public LayerNorm(int[] normalizedShape, double eps, boolean elementwiseAffine, DType dtype, Device device) {
        String who = "LayerNorm(" + Arrays.toString(normalizedShape) + ")";
        if (normalizedShape == null || normalizedShape.length == 0) {
            throw new IllegalArgumentException("LayerNorm: normalizedShape must name at least one dim, got "
                    + Arrays.toString(normalizedShape));
        }
        for (int d : normalizedShape) {
            if (d <= 0) {
                throw new IllegalArgumentException(who + ": normalizedShape dims must be positive");
            }
        }
        NormChecks.eps(who, eps);
        if (dtype == null || device == null) {
            throw new IllegalArgumentException(who + ": dtype and device must not be null");
        }
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.elementwiseAffine = elementwiseAffine;
        this.dtype = dtype;
        this.device = device;
        if (elementwiseAffine) {
            Shape s = Shape.of(normalizedShape);
            registerParameter("weight", Tensor.full(1.0, s, dtype, device));
            registerParameter("bias", Tensor.zeros(s, dtype, device));
        }
    }

    private String who() {
        return "LayerNorm(" + Arrays.toString(normalizedShape) + ")";
    }

    public int[] normalizedShape() {
        return normalizedShape.clone();
    }

    public double eps() {
        return eps;
    }

    public boolean elementwiseAffine() {
        return elementwiseAffine;
    }

    /** The elementwise scale (normalizedShape), or null without affine. */
    public Tensor weight() {
        return parameter("weight");
    }

    /** The elementwise shift (normalizedShape), or null without affine. */
    public Tensor bias() {
        return parameter("bias");
    }

    @Override
    public Tensor forward(Tensor x) {
        NormChecks.trailing(who(), x, normalizedShape);
        if (x.dtype() != dtype || !x.device().equals(device)) {
            throw new IllegalArgumentException(who() + ": input " + x.shape() + " is " + x.dtype() + " on " + x.device()
                    + " but the layer is " + dtype + " on " + device);
        }
        return NormOps.layerNorm(x, normalizedShape, weight(), bias(), eps);
    }

    @Override
    protected String extraRepr() {
        return Arrays.toString(normalizedShape) + ", eps=" + eps + ", elementwiseAffine=" + elementwiseAffine;
    }
}
