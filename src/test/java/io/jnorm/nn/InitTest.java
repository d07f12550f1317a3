package io.jnorm.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.nn.init.Init;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** torch.nn.init's fans, gains and bounds, with the formulas restated here. */
class InitTest {

    @Test
    void fansOfLinearAndConvWeights() {
        assertEquals(3, Init.fanIn(Shape.of(5, 3)));
        assertEquals(5, Init.fanOut(Shape.of(5, 3)));
        // conv weight [out, in, kh, kw]: receptive field kh*kw multiplies both fans
        assertEquals(4 * 3 * 5, Init.fanIn(Shape.of(8, 4, 3, 5)));
        assertEquals(8 * 3 * 5, Init.fanOut(Shape.of(8, 4, 3, 5)));
        String msg = assertThrows(IllegalArgumentException.class, () -> Init.fanIn(Shape.of(7))).getMessage();
        assertTrue(msg.contains("rank >= 2, got shape [7]"), msg);
    }

    @Test
    void gainsAreTorchsCalculateGain() {
        assertEquals(1.0, Init.gain(Init.Nonlinearity.LINEAR, 0));
        assertEquals(1.0, Init.gain(Init.Nonlinearity.SIGMOID, 0));
        assertEquals(5.0 / 3, Init.gain(Init.Nonlinearity.TANH, 0), 1e-15);
        assertEquals(Math.sqrt(2), Init.gain(Init.Nonlinearity.RELU, 0), 1e-15);
        assertEquals(Math.sqrt(2 / 1.0001), Init.gain(Init.Nonlinearity.LEAKY_RELU, 0.01), 1e-15);
        assertEquals(Math.sqrt(1.0 / 3), Init.gain(Init.Nonlinearity.LEAKY_RELU, Math.sqrt(5)), 1e-15);
        assertEquals(0.75, Init.gain(Init.Nonlinearity.SELU, 0));
    }

    private static double[] stats(Tensor t) {
        double[] v = t.toDoubleArray();
        double max = 0;
        double sq = 0;
        double sum = 0;
        for (double x : v) {
            max = Math.max(max, Math.abs(x));
            sq += x * x;
            sum += x;
        }
        return new double[] {max, sq / v.length, sum / v.length};
    }

    @ParameterizedTest
    @EnumSource(Init.FanMode.class)
    void kaimingUniformAndNormalHaveTheRequestedSpread(Init.FanMode mode) {
        Shape s = Shape.of(64, 32, 3, 3);
        double fan = mode == Init.FanMode.FAN_IN ? 32 * 9 : 64 * 9;
        double std = Math.sqrt(2) / Math.sqrt(fan);
        double[] u = stats(Init.kaimingUniform(new Rng(1), s, 0, mode, Init.Nonlinearity.RELU, DType.F64, Device.CPU));
        double bound = Math.sqrt(3) * std;
        assertTrue(u[0] <= bound && u[0] > 0.99 * bound, "uniform max " + u[0] + " vs bound " + bound);
        assertEquals(std * std, u[1], 0.05 * std * std);
        double[] n = stats(Init.kaimingNormal(new Rng(2), s, 0, mode, Init.Nonlinearity.RELU, DType.F64, Device.CPU));
        assertEquals(std * std, n[1], 0.05 * std * std);
        assertEquals(0, n[2], 0.05 * std);
    }

    @Test
    void xavierAndDefaultsUseTheirBounds() {
        Shape s = Shape.of(200, 100);
        double[] x = stats(Init.xavierUniform(new Rng(3), s, 1.0, DType.F64, Device.CPU));
        double b = Math.sqrt(6.0 / 300);
        assertTrue(x[0] <= b && x[0] > 0.99 * b, "xavier max " + x[0] + " vs " + b);
        double[] xn = stats(Init.xavierNormal(new Rng(4), s, 2.0, DType.F64, Device.CPU));
        assertEquals(4 * 2.0 / 300, xn[1], 0.05 * 4 * 2.0 / 300);
        double[] w = stats(Init.defaultWeight(new Rng(5), s, DType.F32, Device.CPU));
        assertTrue(w[0] <= 0.1 && w[0] > 0.099, "default weight bound 1/sqrt(100): " + w[0]);
        Tensor bias = Init.defaultBias(new Rng(6), Shape.of(8, 4, 5, 5), 8, DType.F32, Device.CPU);
        assertEquals(Shape.of(8), bias.shape());
        assertTrue(stats(bias)[0] <= 0.1, "bias bound 1/sqrt(4*5*5)");
        assertThrows(IllegalArgumentException.class, () -> Init.normal(new Rng(1), s, 0, -1, DType.F32, Device.CPU));
        assertThrows(IllegalArgumentException.class, () -> Init.uniform(new Rng(1), s, 1, 0, DType.F32, Device.CPU));
    }
}
