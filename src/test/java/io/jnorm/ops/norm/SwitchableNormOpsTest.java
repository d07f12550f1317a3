package io.jnorm.ops.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
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
}
