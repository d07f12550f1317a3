package io.jnorm.nn;

import io.jnorm.nn.init.Init;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.WeightStandardization;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/**
 * 2-D convolution over NCHW input, as PyTorch's {@code nn.Conv2d}, with optional weight
 * standardization: {@code y = conv2d(x, ws(W), bias)} where {@code ws} is the
 * {@link WsPreset} given (none by default, so a plain Conv2d is exactly PyTorch's).
 *
 * <p>Parameters: {@code weight} [out, in/groups, kH, kW] and, when enabled, {@code bias} [out],
 * both initialized as PyTorch does (kaiming-uniform with a = sqrt 5, i.e. U(−1/sqrt(fanIn),
 * 1/sqrt(fanIn)), and the bias from the same bound) from the seeded {@link Rng}. WS has no state
 * and behaves the same in training and evaluation.
 *
 * <pre>{@code
 * Conv2d conv = Conv2d.builder(64, 128, 3).padding(1).bias(false).ws(WsPreset.OFFICIAL).rng(new Rng(1)).build();
 * }</pre>
 */
public final class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int[] kernel;
    private final int[] stride;
    private final int[] padding;
    private final int[] dilation;
    private final int groups;
    private final WsPreset ws;

    private Conv2d(Builder b) {
        this.inChannels = b.in;
        this.outChannels = b.out;
        this.kernel = b.kernel.clone();
        this.stride = b.stride.clone();
        this.padding = b.padding.clone();
        this.dilation = b.dilation.clone();
        this.groups = b.groups;
        this.ws = b.ws;
        validate(b);
        Shape wShape = Shape.of(outChannels, inChannels / groups, kernel[0], kernel[1]);
        registerParameter("weight", Init.defaultWeight(b.rng, wShape, b.dtype, b.device));
        if (b.bias) {
            registerParameter("bias", Init.defaultBias(b.rng, wShape, outChannels, b.dtype, b.device));
        }
    }

    /** A builder with stride 1, padding 0, dilation 1, one group, a bias, no WS, float32 on the CPU, seed 0. */
    public static Builder builder(int inChannels, int outChannels, int kernelSize) {
        return new Builder(inChannels, outChannels, new int[] {kernelSize, kernelSize});
    }

    /** A builder for a kH × kW kernel. */
    public static Builder builder(int inChannels, int outChannels, int kernelH, int kernelW) {
        return new Builder(inChannels, outChannels, new int[] {kernelH, kernelW});
    }

    /**
     * @param x [N, in, H, W] of the weight's dtype and device
     * @return [N, out, OH, OW]
     * @throws IllegalArgumentException naming this layer when x is not rank 4 or has the wrong channel count
     */
    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4) {
            throw new IllegalArgumentException(who() + ": input must be [N, C, H, W] (rank 4), got shape " + x.shape());
        }
        if (x.dim(1) != inChannels) {
            throw new IllegalArgumentException(who() + ": input " + x.shape() + " has " + x.dim(1)
                    + " channels, expected " + inChannels);
        }
        Tensor w = parameter("weight");
        if (ws == null) {
            return Ops.conv2d(x, w, parameter("bias"), stride, padding, dilation, groups);
        }
        // One fused op: on a GPU the standardized weight is never written to device memory.
        return Ops.wsConv2d(x, w, parameter("bias"), stride, padding, dilation, groups, ws.epsIn(), ws.epsOut(),
                ws.unbiased());
    }

    /** The weight as the convolution sees it (standardized when a preset is set), without gradient tracking. */
    public Tensor effectiveWeight() {
        Tensor w = parameter("weight").detach();
        return ws == null ? w : WeightStandardization.weightStandardize(w, ws.epsIn(), ws.epsOut(), ws.unbiased());
    }

    /** The WS preset, or null for a plain convolution. */
    public WsPreset ws() {
        return ws;
    }

    private void validate(Builder b) {
        if (inChannels <= 0 || outChannels <= 0) {
            throw new IllegalArgumentException(who() + ": in and out channels must be positive");
        }
        for (int i = 0; i < 2; i++) {
            if (kernel[i] <= 0 || stride[i] <= 0 || dilation[i] <= 0 || padding[i] < 0) {
                throw new IllegalArgumentException(who() + ": kernel, stride and dilation must be positive and "
                        + "padding non-negative");
            }
        }
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException(who() + ": groups " + groups + " must be positive and divide in "
                    + inChannels + " and out " + outChannels);
        }
        if (b.rng == null || b.dtype == null || b.device == null) {
            throw new IllegalArgumentException(who() + ": rng, dtype and device must be non-null");
        }
        long fanIn = (long) (inChannels / groups) * kernel[0] * kernel[1];
        if (ws != null && ws.unbiased() && fanIn == 1) {
            throw new IllegalArgumentException(who() + ": weight standardization " + ws + " uses the unbiased "
                    + "variance (divisor fan-in - 1), undefined for fan-in " + fanIn + " = in/groups "
                    + (inChannels / groups) + " x kernel " + kernel[0] + "x" + kernel[1]
                    + "; use WsPreset.BIASED or no WS for this layer");
        }
    }

    /** The layer and its geometry, as error messages name it. */
    private String who() {
        return "Conv2d(" + extraRepr() + ")";
    }

    @Override
    protected String extraRepr() {
        return "in=" + inChannels + ", out=" + outChannels + ", kernel=" + kernel[0] + "x" + kernel[1]
                + ", stride=" + Arrays.toString(stride) + ", padding=" + Arrays.toString(padding)
                + ", dilation=" + Arrays.toString(dilation) + ", groups=" + groups
                + (ws == null ? "" : ", ws=" + ws);
    }

    /** Optional settings of a {@link Conv2d}. */
    public static final class Builder {
        private final int in;
        private final int out;
        private final int[] kernel;
        private int[] stride = {1, 1};
        private int[] padding = {0, 0};
        private int[] dilation = {1, 1};
        private int groups = 1;
        private boolean bias = true;
        private WsPreset ws;
        private Rng rng = new Rng(0);
        private DType dtype = DType.F32;
        private Device device = Device.CPU;

        private Builder(int in, int out, int[] kernel) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
        }

        public Builder stride(int s) {
            return stride(s, s);
        }

        public Builder stride(int sh, int sw) {
            stride = new int[] {sh, sw};
            return this;
        }

        public Builder padding(int p) {
            return padding(p, p);
        }

        public Builder padding(int ph, int pw) {
            padding = new int[] {ph, pw};
            return this;
        }

        public Builder dilation(int d) {
            return dilation(d, d);
        }

        public Builder dilation(int dh, int dw) {
            dilation = new int[] {dh, dw};
            return this;
        }

        public Builder groups(int g) {
            groups = g;
            return this;
        }

        public Builder bias(boolean on) {
            bias = on;
            return this;
        }

        /** Weight standardization with the default preset, {@link WsPreset#OFFICIAL}. */
        public Builder ws() {
            return ws(WsPreset.OFFICIAL);
        }

        /** Weight standardization variant, or null for none (the default). */
        public Builder ws(WsPreset preset) {
            ws = preset;
            return this;
        }

        public Builder rng(Rng r) {
            rng = r;
            return this;
        }

        public Builder dtype(DType t) {
            dtype = t;
            return this;
        }

        public Builder device(Device d) {
            device = d;
            return this;
        }

        /**
         * @throws IllegalArgumentException for non-positive sizes, groups not dividing the channels,
         *         or an unbiased WS preset on a layer with fan-in 1
         */
        public Conv2d build() {
            return new Conv2d(this);
        }
    }
}
