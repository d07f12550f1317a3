package io.jnorm.ops.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.nn.SnUbnTestSupport;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Gradients of the SN op for every input (logits included), in training and evaluation. */
class SwitchableNormOpsTest {

    static Stream<Arguments> cases() {
        int[][] shapes = {{1, 3, 2, 2}, {2, 3, 2, 2}, {2, 2, 1, 2}, {3, 2, 2, 3}};
        Stream.Builder<Arguments> b = Stream.builder();
        for (int[] s : shapes) {
            for (boolean training : new boolean[] {true, false}) {
                for (int terms : new int[] {3, 2}) {
                    b.add(Arguments.of(s, training, terms));
                }
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} training={1} terms={2}")
    @MethodSource("cases")
    void gradcheckEveryInput(int[] shape, boolean training, int terms) {
        int n = shape[0];
        int c = shape[1];
        try (Scope scope = Scope.open()) {
            Tensor x = SnUbnTestSupport.tensor(SnUbnTestSupport.data(11, n, c, shape[2], shape[3]), DType.F64, shape)
                    .requiresGrad(true);
            Tensor ml = Tensor.of(SnUbnTestSupport.seq(1, terms, 0.7), terms).requiresGrad(true);
            Tensor vl = Tensor.of(SnUbnTestSupport.seq(2, terms, 0.7), terms).requiresGrad(true);
            Tensor gamma = Tensor.of(offset(SnUbnTestSupport.seq(3, c, 0.3), 1.0), c).requiresGrad(true);
            Tensor beta = Tensor.of(SnUbnTestSupport.seq(4, c, 0.3), c).requiresGrad(true);
            Tensor rm = Tensor.of(SnUbnTestSupport.seq(5, c, 0.5), c);
            Tensor rv = Tensor.of(offset(SnUbnTestSupport.seq(6, c, 0.2), 1.2), c);
            Gradcheck.Result r = Gradcheck.check(in -> SwitchableNormOps.switchableNorm2d(
                            in[0], in[1], in[2], in[3], in[4], rm, rv, training, 1e-5).y(),
                    new Tensor[] {x, ml, vl, gamma, beta}, 1e-6, 1e-7, 1e-5);
            assertTrue(r.passed(), r.message());
        }
    }

    @Test
    void evaluationLogitsGetGradientThroughTheConstantBnTerm() {
        Tensor x = SnUbnTestSupport.tensor(SnUbnTestSupport.data(7, 2, 3, 2, 2), DType.F64, 2, 3, 2, 2);
        Tensor ml = Tensor.of(new double[] {1, 1, 1}, 3).requiresGrad(true);
        Tensor vl = Tensor.of(new double[] {1, 1, 1}, 3).requiresGrad(true);
        Tensor rm = Tensor.of(new double[] {0.5, -0.5, 1.0}, 3).requiresGrad(true);
        Tensor rv = Tensor.of(new double[] {2, 3, 0.5}, 3).requiresGrad(true);
        SwitchableNormOps.Output out = SwitchableNormOps.switchableNorm2d(x, ml, vl,
                Tensor.of(new double[] {1, 1, 1}, 3), Tensor.of(new double[] {0, 0, 0}, 3), rm, rv, false, 1e-5);
        assertNull(out.batchMean());
        out.y().backward(Tensor.of(SnUbnTestSupport.seq(8, 24, 1.0), 2, 3, 2, 2));
        assertTrue(Math.abs(ml.grad().get(2)) > 1e-6, "BN mean logit gradient " + ml.grad());
        assertTrue(Math.abs(vl.grad().get(2)) > 1e-6, "BN var logit gradient " + vl.grad());
        // The running statistics are constants of the op: they are not among its graph inputs.
        assertNull(rm.grad());
        assertNull(rv.grad());
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        Tensor x = Tensor.zeros(DType.F64, 2, 3, 2, 2);
        Tensor l3 = Tensor.zeros(DType.F64, 3);
        Tensor c3 = Tensor.zeros(DType.F64, 3);
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(Tensor.zeros(DType.F64, 2, 3, 4), l3, l3, c3, c3,
                null, null, true, 1e-5), "input", "[2, 3, 4]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(Tensor.zeros(DType.F64, 2, 3, 1, 1), l3, l3, c3, c3,
                null, null, true, 1e-5), "H·W", "[2, 3, 1, 1]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, Tensor.zeros(DType.F64, 4), l3, c3, c3,
                null, null, true, 1e-5), "meanLogits", "[4]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, l3, Tensor.zeros(DType.F64, 2), c3, c3,
                null, null, true, 1e-5), "varLogits", "[2]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, Tensor.zeros(DType.F64, 4), c3,
                null, null, true, 1e-5), "gamma", "[4]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, c3, Tensor.zeros(DType.F32, 3),
                null, null, true, 1e-5), "dtype", "F32");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, c3, c3, null, null, false, 1e-5),
                "runningMean", "[3]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, c3, c3, c3, Tensor.zeros(DType.F64, 2),
                false, 1e-5), "runningVar", "[2]");
        assertMessage(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, c3, c3, null, null, true, -1),
                "eps", "-1");
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith("switchableNorm2d"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }

    private static double[] offset(double[] v, double d) {
        for (int i = 0; i < v.length; i++) {
            v[i] += d;
        }
        return v;
    }

    @Test
    void twoTermOpHasNoBatchStatistics() {
        Tensor x = Tensor.randn(new Rng(3), DType.F64, 2, 2, 2, 2);
        Tensor l2 = Tensor.zeros(DType.F64, 2);
        SwitchableNormOps.Output out = SwitchableNormOps.switchableNorm2d(x, l2, l2, Tensor.ones(DType.F64, 2),
                Tensor.zeros(DType.F64, 2), null, null, true, 1e-5);
        assertNull(out.batchMean());
        assertEquals(16, out.y().numel());
    }

    /**
     * The in-kernel moving average rounds like the separate ops it replaced (R·k, batch·(1 − k),
     * their sum, each rounded to the dtype): the running statistics are bit-identical to that
     * composition of multiply and add ops applied to the batch statistics the op returns.
     */
    @ParameterizedTest
    @MethodSource("dtypes")
    void inKernelMovingAverageEqualsTheMultiplyAddOpsBitForBit(DType t) {
        int n = 3;
        int c = 4;
        double keep = 0.9;
        try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            Tensor rm = Tensor.fromDoubles(SnUbnTestSupport.seq(61, c, 1.0), Shape.of(c), t, Device.CPU);
            Tensor rv = Tensor.fromDoubles(SnUbnTestSupport.seq(62, c, 1.0), Shape.of(c), t, Device.CPU);
            Tensor expectedMean = Ops.add(rm, Ops.scalarLike(rm, 0.0));
            Tensor expectedVar = Ops.add(rv, Ops.scalarLike(rv, 0.0));
            Tensor logits = Tensor.full(1.0, Shape.of(3), t, Device.CPU);
            Tensor gamma = Tensor.full(1.0, Shape.of(c), t, Device.CPU);
            Tensor beta = Tensor.zeros(Shape.of(c), t, Device.CPU);
            for (int step = 0; step < 3; step++) {
                Tensor x = SnUbnTestSupport.tensor(SnUbnTestSupport.data(70 + step, n, c, 3, 3), t, n, c, 3, 3);
                SwitchableNormOps.Output out = SwitchableNormOps.switchableNorm2d(x, logits, logits, gamma, beta,
                        rm, rv, true, 1e-5, true, keep);
                expectedMean = Ops.add(Ops.mul(expectedMean, Ops.scalarLike(rm, keep)),
                        Ops.mul(out.batchMean(), Ops.scalarLike(rm, 1 - keep)));
                expectedVar = Ops.add(Ops.mul(expectedVar, Ops.scalarLike(rv, keep)),
                        Ops.mul(out.batchVar(), Ops.scalarLike(rv, 1 - keep)));
            }
            double[] em = expectedMean.toDoubleArray();
            double[] ev = expectedVar.toDoubleArray();
            double[] am = rm.toDoubleArray();
            double[] av = rv.toDoubleArray();
            for (int i = 0; i < c; i++) {
                assertEquals(em[i], am[i], 0.0, t + " running_mean[" + i + "]");
                assertEquals(ev[i], av[i], 0.0, t + " running_var[" + i + "]");
            }
        }
    }

    static Stream<DType> dtypes() {
        return Stream.of(DType.F32, DType.F64);
    }
}
