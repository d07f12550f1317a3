package io.jnorm.nn;

import static io.jnorm.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** Linear, ReLU, pooling, Flatten and Sequential as modules, against references written here. */
class LayersTest {

    @ParameterizedTest
    @CsvSource({"F32, 5, 3, true", "F64, 5, 3, true", "F64, 1, 7, false", "F32, 16, 1, true"})
    void linearForwardIsXTimesWeightTransposedPlusBias(DType dtype, int in, int out, boolean bias) {
        try (Linear lin = new Linear(in, out, bias, dtype, Device.CPU, new Rng(1))) {
            Tensor x = Tensor.randn(new Rng(2), Shape.of(2, 3, in), dtype, Device.CPU);
            double[] xv = x.toDoubleArray();
            double[] w = lin.weight().toDoubleArray();
            double[] b = bias ? lin.bias().toDoubleArray() : new double[out];
            double[] ref = new double[6 * out];
            for (int r = 0; r < 6; r++) {
                for (int o = 0; o < out; o++) {
                    double s = b[o];
                    for (int i = 0; i < in; i++) {
                        s += xv[r * in + i] * w[o * in + i];
                    }
                    ref[r * out + o] = s;
                }
            }
            Tensor y = lin.forward(x);
            assertEquals(Shape.of(2, 3, out), y.shape());
            double tol = dtype == DType.F64 ? 1e-14 : 1e-6;
            assertClose("linear forward", ref, y.toDoubleArray(), tol, tol);
            assertEquals(bias ? List.of("weight", "bias") : List.of("weight"), List.copyOf(lin.stateDict().keySet()));
            if (!bias) {
                assertNull(lin.bias());
            }
        }
    }

    @Test
    void linearInitIsPyTorchsUniformWithinOneOverSqrtFanIn() {
        int in = 50;
        try (Linear lin = new Linear(in, 400, true, DType.F64, Device.CPU, new Rng(9))) {
            double bound = 1 / Math.sqrt(in);
            double[] w = lin.weight().toDoubleArray();
            double max = 0;
            double sq = 0;
            for (double v : w) {
                max = Math.max(max, Math.abs(v));
                sq += v * v;
            }
            assertTrue(max <= bound && max > 0.99 * bound, "max |w| " + max + " vs bound " + bound);
            // U(-b, b) has variance b^2 / 3; 20000 draws pin it within a few percent
            assertEquals(bound * bound / 3, sq / w.length, 0.05 * bound * bound / 3);
            for (double v : lin.bias().toDoubleArray()) {
                assertTrue(Math.abs(v) <= bound, "bias " + v + " outside +-" + bound);
            }
        }
        try (Linear a = new Linear(4, 3, new Rng(5)); Linear b = new Linear(4, 3, new Rng(5));
             Linear c = new Linear(4, 3, new Rng(6))) {
            assertArrayEquals(a.weight().toDoubleArray(), b.weight().toDoubleArray(), 0.0, "same seed, same weights");
            assertNotEquals(a.weight().get(0, 0), c.weight().get(0, 0));
        }
    }

    @Test
    void linearGradcheckOverInputWeightAndBias() {
        try (Linear lin = new Linear(4, 3, true, DType.F64, Device.CPU, new Rng(3))) {
            double[] before = lin.weight().toDoubleArray();
            Tensor x = Tensor.randn(new Rng(4), Shape.of(5, 4), DType.F64, Device.CPU).requiresGrad(true);
            Gradcheck.Result r = ModuleGradcheck.check(lin, x);
            assertTrue(r.passed(), r.message());
            assertArrayEquals(before, lin.weight().toDoubleArray(), 0.0, "the check restores the parameters");
        }
    }

    @Test
    void linearRejectsAWrongInputWidth() {
        try (Linear lin = new Linear(4, 3, new Rng(1))) {
            String msg = assertThrows(IllegalArgumentException.class,
                    () -> lin.forward(Tensor.zeros(DType.F32, 2, 5))).getMessage();
            assertEquals("Linear(in=4, out=3): input must end with an axis of 4, got shape [2, 5]", msg);
        }
        assertThrows(IllegalArgumentException.class, () -> new Linear(0, 3, new Rng(1)));
    }

    @Test
    void maxPoolModuleTakesWindowMaxima() {
        Tensor x = Tensor.randn(new Rng(7), Shape.of(2, 3, 4, 6), DType.F64, Device.CPU);
        double[] v = x.toDoubleArray();
        Tensor y = new MaxPool2d(2).forward(x);
        assertEquals(Shape.of(2, 3, 2, 3), y.shape());
        double[] ref = new double[2 * 3 * 2 * 3];
        for (int nc = 0; nc < 6; nc++) {
            for (int oh = 0; oh < 2; oh++) {
                for (int ow = 0; ow < 3; ow++) {
                    double m = Double.NEGATIVE_INFINITY;
                    for (int dh = 0; dh < 2; dh++) {
                        for (int dw = 0; dw < 2; dw++) {
                            m = Math.max(m, v[nc * 24 + (2 * oh + dh) * 6 + 2 * ow + dw]);
                        }
                    }
                    ref[(nc * 2 + oh) * 3 + ow] = m;
                }
            }
        }
        assertArrayEquals(ref, y.toDoubleArray(), 0.0);
    }

    @Test
    void avgPoolModuleCountsPaddingInTheDivisor() {
        Tensor x = Tensor.randn(new Rng(8), Shape.of(1, 2, 3, 3), DType.F64, Device.CPU);
        double[] v = x.toDoubleArray();
        Tensor y = new AvgPool2d(3, 1, 1).forward(x);
        assertEquals(Shape.of(1, 2, 3, 3), y.shape());
        double[] ref = new double[18];
        for (int c = 0; c < 2; c++) {
            for (int h = 0; h < 3; h++) {
                for (int w = 0; w < 3; w++) {
                    double s = 0;
                    for (int dh = -1; dh <= 1; dh++) {
                        for (int dw = -1; dw <= 1; dw++) {
                            int hh = h + dh;
                            int ww = w + dw;
                            if (hh >= 0 && hh < 3 && ww >= 0 && ww < 3) {
                                s += v[c * 9 + hh * 3 + ww];
                            }
                        }
                    }
                    ref[c * 9 + h * 3 + w] = s / 9;
                }
            }
        }
        assertClose("avg pool", ref, y.toDoubleArray(), 1e-15, 1e-14);
    }

    @Test
    void poolingRejectsBadWindowsAndInputs() {
        String pad = assertThrows(IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2)).getMessage();
        assertTrue(pad.contains("MaxPool2d: padding must be in [0, kernel/2], got padding [2, 2] for kernel [2, 2]"), pad);
        String k = assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(0)).getMessage();
        assertTrue(k.startsWith("AvgPool2d: kernel and stride must be positive"), k);
        assertThrows(IllegalArgumentException.class, () -> new AvgPool2d(new int[] {2, 2, 2}, null, new int[] {0}));
        String rank = assertThrows(IllegalArgumentException.class,
                () -> new MaxPool2d(2).forward(Tensor.zeros(DType.F32, 3, 4, 4))).getMessage();
        assertTrue(rank.contains("input must be [N, C, H, W], got shape [3, 4, 4]"), rank);
    }

    @ParameterizedTest
    @CsvSource({"1, -1, '2, 60'", "0, -1, '120'", "1, 2, '2, 12, 5'", "-2, -1, '2, 3, 20'", "2, 2, '2, 3, 4, 5'"})
    void flattenMergesTheRequestedAxes(int start, int end, String expected) {
        Tensor x = Tensor.randn(new Rng(1), Shape.of(2, 3, 4, 5), DType.F64, Device.CPU).requiresGrad(true);
        Tensor y = new Flatten(start, end).forward(x);
        int[] dims = java.util.Arrays.stream(expected.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        assertEquals(Shape.of(dims), y.shape());
        assertArrayEquals(x.toDoubleArray(), y.toDoubleArray(), 0.0);
        Ops.sum(Ops.mul(y, y)).backward();
        assertEquals(x.shape(), x.grad().shape());
        assertClose("d sum(y^2)/dx", Ops.mul(x, x.mul(0).add(2)).toDoubleArray(), x.grad().toDoubleArray(), 0, 0);
    }

    @Test
    void flattenRejectsReversedAxes() {
        String msg = assertThrows(IllegalArgumentException.class,
                () -> new Flatten(2, 1).forward(Tensor.zeros(DType.F32, 2, 3, 4))).getMessage();
        assertTrue(msg.contains("Flatten: startDim 2 comes after endDim 1 for input [2, 3, 4]"), msg);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void sequentialAppliesItsLayersInOrder(DType dtype) {
        Rng rng = new Rng(12);
        Linear a = new Linear(6, 5, true, dtype, Device.CPU, rng);
        Linear b = new Linear(5, 2, true, dtype, Device.CPU, rng);
        try (Sequential net = new Sequential(new Flatten(), a, new ReLU(), b)) {
            Tensor x = Tensor.randn(new Rng(13), Shape.of(4, 2, 3), dtype, Device.CPU);
            Tensor manual = b.forward(Ops.relu(a.forward(Ops.reshape(x, 4, 6))));
            assertArrayEquals(manual.toDoubleArray(), net.forward(x).toDoubleArray(), 0.0);
            assertEquals(List.of("1.weight", "1.bias", "3.weight", "3.bias"), List.copyOf(net.stateDict().keySet()));
            assertEquals(4, net.size());
            assertEquals(6 * 5 + 5 + 5 * 2 + 2, net.numParameters());
            assertEquals("Sequential(\n  (0): Flatten(startDim=1, endDim=-1)\n  (1): Linear(in=6, out=5, bias=true)\n"
                    + "  (2): ReLU()\n  (3): Linear(in=5, out=2, bias=true)\n)", net.toString());
            String dup = assertThrows(IllegalArgumentException.class, () -> net.add(a)).getMessage();
            assertTrue(dup.contains("already in this container"), dup);
        }
    }

    @Test
    void reluModuleClampsNegativesToZero() {
        Tensor y = new ReLU().forward(Tensor.of(new double[] {-2, -0.0, 0.5, 3}, 4));
        assertArrayEquals(new double[] {0, 0, 0.5, 3}, y.toDoubleArray(), 0.0);
    }
}
