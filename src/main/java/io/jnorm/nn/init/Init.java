package io.jnorm.nn.init;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Weight initializers with PyTorch's formulas ({@code torch.nn.init}), drawing from a seeded
 * {@link Rng} so a model is reproducible from its seed. (The numbers differ from PyTorch's,
 * whose generator is not reproduced; the distributions are the same.)
 *
 * <p>Fans follow {@code _calculate_fan_in_and_fan_out}: for a weight of shape
 * [out, in, k1, k2, ...], fan_in = in * k1 * k2 * ... and fan_out = out * k1 * k2 * ....
 */
public final class Init {

    /** Which fan scales the variance. */
    public enum FanMode { FAN_IN, FAN_OUT }

    /** The nonlinearity after the layer, which sets the recommended gain. */
    public enum Nonlinearity { LINEAR, CONV, SIGMOID, TANH, RELU, LEAKY_RELU, SELU }

    private Init() {
    }

    /** fan_in of a weight of rank >= 2. */
    public static long fanIn(Shape shape) {
        checkRank(shape, "fanIn");
        return shape.dim(1) * shape.numel(2, shape.rank());
    }

    /** fan_out of a weight of rank >= 2. */
    public static long fanOut(Shape shape) {
        checkRank(shape, "fanOut");
        return shape.dim(0) * shape.numel(2, shape.rank());
    }

    private static void checkRank(Shape shape, String what) {
        if (shape.rank() < 2) {
            throw new IllegalArgumentException("Init." + what + ": fan in and fan out need a tensor of rank >= 2, got shape "
                    + shape);
        }
    }

    /**
     * PyTorch's {@code calculate_gain}: 1 for linear, conv and sigmoid, 5/3 for tanh, sqrt 2 for
     * relu, sqrt(2 / (1 + slope^2)) for leaky relu (slope = {@code param}), 3/4 for selu.
     */
    public static double gain(Nonlinearity nonlinearity, double param) {
        return switch (nonlinearity) {
            case LINEAR, CONV, SIGMOID -> 1.0;
            case TANH -> 5.0 / 3.0;
            case RELU -> Math.sqrt(2.0);
            case LEAKY_RELU -> Math.sqrt(2.0 / (1.0 + param * param));
            case SELU -> 0.75;
        };
    }

    /** Uniform in [low, high). */
    public static Tensor uniform(Rng rng, Shape shape, double low, double high, DType dtype, Device device) {
        if (!(low <= high) || !Double.isFinite(low) || !Double.isFinite(high)) {
            throw new IllegalArgumentException("Init.uniform: need finite low <= high, got low " + low + ", high " + high);
        }
        return Tensor.rand(rng, low, high, shape, dtype, device);
    }

    /** Normal with the given mean and standard deviation. */
    public static Tensor normal(Rng rng, Shape shape, double mean, double std, DType dtype, Device device) {
        if (!(std >= 0) || !Double.isFinite(std) || !Double.isFinite(mean)) {
            throw new IllegalArgumentException("Init.normal: need a finite mean and std >= 0, got mean " + mean
                    + ", std " + std);
        }
        double[] v = new double[Math.toIntExact(shape.numel())];
        for (int i = 0; i < v.length; i++) {
            v[i] = mean + std * rng.nextGaussian();
        }
        return Tensor.fromDoubles(v, shape, dtype, device);
    }

    /**
     * He (Kaiming) uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain from
     * {@code nonlinearity} with slope {@code a}.
     */
    public static Tensor kaimingUniform(Rng rng, Shape shape, double a, FanMode mode, Nonlinearity nonlinearity,
                                        DType dtype, Device device) {
        double bound = gain(nonlinearity, a) * Math.sqrt(3.0 / fan(shape, mode));
        return Tensor.rand(rng, -bound, bound, shape, dtype, device);
    }

    /** He (Kaiming) normal: N(0, std^2) with std = gain / sqrt(fan). */
    public static Tensor kaimingNormal(Rng rng, Shape shape, double a, FanMode mode, Nonlinearity nonlinearity,
                                       DType dtype, Device device) {
        double std = gain(nonlinearity, a) / Math.sqrt(fan(shape, mode));
        return normal(rng, shape, 0.0, std, dtype, device);
    }

    /** Glorot (Xavier) uniform: U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)). */
    public static Tensor xavierUniform(Rng rng, Shape shape, double gain, DType dtype, Device device) {
        double bound = gain * Math.sqrt(6.0 / (fanIn(shape) + fanOut(shape)));
        return Tensor.rand(rng, -bound, bound, shape, dtype, device);
    }

    /** Glorot (Xavier) normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
    public static Tensor xavierNormal(Rng rng, Shape shape, double gain, DType dtype, Device device) {
        double std = gain * Math.sqrt(2.0 / (fanIn(shape) + fanOut(shape)));
        return normal(rng, shape, 0.0, std, dtype, device);
    }

    /**
     * The default weight of PyTorch's Linear and Conv layers ({@code reset_parameters}):
     * kaiming uniform with a = sqrt 5 and fan_in, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
     */
    public static Tensor defaultWeight(Rng rng, Shape weightShape, DType dtype, Device device) {
        return kaimingUniform(rng, weightShape, Math.sqrt(5.0), FanMode.FAN_IN, Nonlinearity.LEAKY_RELU, dtype, device);
    }

    /**
     * The default bias of PyTorch's Linear and Conv layers: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
     * with the fan_in of the layer's weight.
     */
    public static Tensor defaultBias(Rng rng, Shape weightShape, int biasSize, DType dtype, Device device) {
        double bound = 1.0 / Math.sqrt(fanIn(weightShape));
        return Tensor.rand(rng, -bound, bound, Shape.of(biasSize), dtype, device);
    }

    private static long fan(Shape shape, FanMode mode) {
        return mode == FanMode.FAN_IN ? fanIn(shape) : fanOut(shape);
    }
}
