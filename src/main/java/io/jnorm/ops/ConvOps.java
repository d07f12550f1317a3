package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.Conv2dSpec;
import io.jnorm.ops.norm.WeightStandardization;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** 2-D convolution: validation, the backend call, and one autograd node for x, w and bias. */
final class ConvOps {
    private static final String OP = "conv2d";

    private ConvOps() {
    }

    static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups) {
        Conv2dSpec spec = spec(x, w, bias, stride, padding, dilation, groups);
        Shape outShape = outputShape(x, w, spec);
        Tensor y = Tensor.zeros(outShape, x.dtype(), x.device());
        x.backend().conv().conv2dForward(x, w, bias, spec, y);
        return Autograd.record(OP, y, (gy, needs) -> {
            Tensor gx = null;
            Tensor gw = null;
            Tensor gb = null;
            if (needs[0]) {
                gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
                x.backend().conv().conv2dBackwardInput(gy, w, spec, gx);
            }
            if (needs[1]) {
                gw = Tensor.zeros(w.shape(), w.dtype(), w.device());
                x.backend().conv().conv2dBackwardWeight(gy, x, spec, gw);
            }
            if (bias != null && needs[2]) {
                gb = ReductionOps.sum(gy, new boolean[] {true, false, true, true}, false);
            }
            return new Tensor[] {gx, gw, gb};
        }, x, w, bias);
    }

    /**
     * conv2d(x, standardize(w)) + bias in one autograd node, on the backend's fused
     * weight-standardization kernels (the standardized weight is never materialized on a GPU).
     */
    static Tensor wsConv2d(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation, int groups,
                           double epsIn, double epsOut, boolean unbiased) {
        Conv2dSpec spec = spec(x, w, bias, stride, padding, dilation, groups);
        WeightStandardization.validate(w, epsIn, epsOut, unbiased);
        Shape outShape = outputShape(x, w, spec);
        Tensor y = Tensor.zeros(outShape, x.dtype(), x.device());
        x.backend().weightStandardization().conv2dForward(x, w, bias, spec, epsIn, epsOut, unbiased, y);
        return Autograd.record("ws_conv2d", y, (gy, needs) -> {
            Tensor gx = null;
            Tensor gw = null;
            Tensor gb = null;
            if (needs[0]) {
                gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
                x.backend().weightStandardization().conv2dBackwardInput(gy, w, spec, epsIn, epsOut, unbiased, gx);
            }
            if (needs[1]) {
                gw = Tensor.zeros(w.shape(), w.dtype(), w.device());
                x.backend().weightStandardization().conv2dBackwardWeight(gy, x, w, spec, epsIn, epsOut, unbiased, gw);
            }
            if (bias != null && needs[2]) {
                gb = ReductionOps.sum(gy, new boolean[] {true, false, true, true}, false);
            }
            return new Tensor[] {gx, gw, gb};
        }, x, w, bias);
    }

    private static Conv2dSpec spec(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                   int groups) {
        Checks.rank(OP, "input", x, 4);
        Checks.rank(OP, "weight", w, 4);
        Checks.sameDeviceAndDtype(OP, x, w, bias);
        int[] st = Checks.pair(OP, "stride", stride);
        int[] pd = Checks.pair(OP, "padding", padding);
        int[] dl = Checks.pair(OP, "dilation", dilation);
        for (int i = 0; i < 2; i++) {
            if (st[i] <= 0) {
                throw new IllegalArgumentException(OP + ": stride must be positive, got " + Arrays.toString(stride));
            }
            if (dl[i] <= 0) {
                throw new IllegalArgumentException(OP + ": dilation must be positive, got "
                        + Arrays.toString(dilation));
            }
            if (pd[i] < 0) {
                throw new IllegalArgumentException(OP + ": padding must be non-negative, got "
                        + Arrays.toString(padding));
            }
        }
        Checks.positive(OP, "groups", groups);
        int c = x.dim(1);
        int o = w.dim(0);
        if (c % groups != 0) {
            throw new IllegalArgumentException(OP + ": input channels " + c + " of input " + x.shape()
                    + " are not divisible by groups " + groups);
        }
        if (o % groups != 0) {
            throw new IllegalArgumentException(OP + ": output channels " + o + " of weight " + w.shape()
                    + " are not divisible by groups " + groups);
        }
        if (w.dim(1) != c / groups) {
            throw new IllegalArgumentException(OP + ": weight " + w.shape() + " expects " + w.dim(1) * groups
                    + " input channels (" + w.dim(1) + " per group x " + groups + " groups) but input "
                    + x.shape() + " has " + c);
        }
        if (bias != null) {
            Checks.shape(OP, "bias", bias, Shape.of(o));
        }
        return new Conv2dSpec(st[0], st[1], pd[0], pd[1], dl[0], dl[1], groups);
    }

    private static Shape outputShape(Tensor x, Tensor w, Conv2dSpec s) {
        int oh = s.outH(x.dim(2), w.dim(2));
        int ow = s.outW(x.dim(3), w.dim(3));
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException(OP + ": output size " + oh + "x" + ow + " is not positive for input "
                    + x.shape() + ", weight " + w.shape() + ", stride [" + s.strideH() + ", " + s.strideW()
                    + "], padding [" + s.padH() + ", " + s.padW() + "], dilation [" + s.dilationH() + ", "
                    + s.dilationW() + "]: the dilated kernel is larger than the padded input");
        }
        return Shape.of(x.dim(0), w.dim(0), oh, ow);
    }
}
