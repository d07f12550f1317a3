package io.jnorm.ops.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.nn.SnUbnTestSupport;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import io.jnorm.testing.Close;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Gradients of the UBN op for every input, in both branches, with and without the conv affine. */
class UnifiedBatchNormOpsTest {

    static Stream<Arguments> cases() {
        // shape, kernel (0 = no affine)
        Object[][] grid = {
            {new int[] {1, 2, 3, 3}, 3}, {new int[] {2, 3, 3, 4}, 3}, {new int[] {2, 2, 1, 1}, 3},
            {new int[] {3, 2, 2, 2}, 0}, {new int[] {2, 2, 3, 3}, 5}, {new int[] {2, 2, 4, 3}, 1},
        };
        Stream.Builder<Arguments> b = Stream.builder();
        for (Object[] g : grid) {
            for (boolean batch : new boolean[] {true, false}) {
                b.add(Arguments.of(g[0], g[1], batch));
            }
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} k={1} batch={2}")
    @MethodSource("cases")
    void gradcheckEveryInput(int[] d, int k, boolean batch) {
        int c = d[1];
        try (Scope scope = Scope.open()) {
            Tensor x = SnUbnTestSupport.tensor(SnUbnTestSupport.data(5, d[0], c, d[2], d[3]), DType.F64, d)
                    .requiresGrad(true);
            Tensor wc = Tensor.of(SnUbnTestSupport.seq(1, c, 0.5), c).requiresGrad(true);
            Tensor ws = Tensor.of(SnUbnTestSupport.seq(2, c, 0.8), c).requiresGrad(true);
            Tensor bs = Tensor.of(SnUbnTestSupport.seq(3, c, 0.8), c).requiresGrad(true);
            Tensor kw = k == 0 ? null : Tensor.of(SnUbnTestSupport.seq(4, c * k * k, 0.5), c, 1, k, k).requiresGrad(true);
            Tensor kb = k == 0 ? null : Tensor.of(SnUbnTestSupport.seq(6, c, 0.5), c).requiresGrad(true);
            Tensor rm = Tensor.of(SnUbnTestSupport.seq(7, c, 0.5), c);
            double[] rvv = SnUbnTestSupport.seq(8, c, 0.2);
            for (int i = 0; i < c; i++) {
                rvv[i] += 1.3;
            }
            Tensor rv = Tensor.of(rvv, c);
            Tensor[] inputs = k == 0 ? new Tensor[] {x, wc, ws, bs} : new Tensor[] {x, wc, ws, bs, kw, kb};
            Gradcheck.Result r = Gradcheck.check(in -> UnifiedBatchNormOps.unifiedBatchNorm2d(in[0], in[1], in[2], in[3],
                    k == 0 ? null : in[4], k == 0 ? null : in[5], rm, rv, batch, 1e-5).y(), inputs, 1e-6, 1e-7, 1e-5);
            assertTrue(r.passed(), r.message());
        }
    }

    @Test
    void runningBranchReturnsNoBatchStatisticsAndIgnoresLaterChangesToTheBuffers() {
        Tensor x = SnUbnTestSupport.tensor(SnUbnTestSupport.data(9, 2, 2, 2, 2), DType.F64, 2, 2, 2, 2)
                .requiresGrad(true);
        Tensor rm = Tensor.of(new double[] {0.1, 0.2}, 2);
        Tensor rv = Tensor.of(new double[] {1.5, 0.5}, 2);
        Tensor wc = Tensor.zeros(DType.F64, 2);
        Tensor ws = Tensor.zeros(DType.F64, 2);
        Tensor bs = Tensor.ones(DType.F64, 2);
        UnifiedBatchNormOps.Output out = UnifiedBatchNormOps.unifiedBatchNorm2d(x, wc, ws, bs, null, null, rm, rv,
                false, 1e-5);
        assertNull(out.batchMean());
        Tensor dy = Tensor.of(SnUbnTestSupport.seq(10, 16, 1.0), 2, 2, 2, 2);
        rv.backend().copy(Tensor.of(new double[] {100, 100}, 2), rv);
        out.y().backward(dy);
        // Running branch, w_s = 0 and w_c = 0: dx = dy·s/sqrt(var + eps) with s = sigmoid(1).
        double s = 1 / (1 + Math.exp(-1));
        double[] g = dy.toDoubleArray();
        double[] expected = new double[16];
        for (int i = 0; i < 16; i++) {
            double var = (i / 4) % 2 == 0 ? 1.5 : 0.5;
            expected[i] = g[i] * s / Math.sqrt(var + 1e-5);
        }
        Close.assertClose("dx with the forward's running var", expected, x.grad(), 1e-14, 1e-12);
    }

    @Test
    void meanPairwiseCosineOfConstructedSamples() {
        // Samples: zero, v, v. S = [[0,0,0],[0,1,1],[0,1,1]], sum 4, so c = (4 - 3)/(3·2) = 1/6:
        // the code subtracts n assuming S_ii = 1, which the zero sample breaks.
        double[] v = {0, 0, 0, 0, 1, 2, 3, 4, 1, 2, 3, 4};
        assertEquals(1.0 / 6, UnifiedBatchNormOps.meanPairwiseCosine(Tensor.of(v, 3, 1, 2, 2), 16), 1e-15);
        // Orthogonal pair: c = 0; opposite pair: c = -1; one sample: 1.
        assertEquals(0, UnifiedBatchNormOps.meanPairwiseCosine(Tensor.of(new double[] {1, 0, 0, 1}, 2, 2), 16), 1e-15);
        assertEquals(-1, UnifiedBatchNormOps.meanPairwiseCosine(Tensor.of(new double[] {1, 2, -1, -2}, 2, 2), 16), 1e-15);
        assertEquals(1, UnifiedBatchNormOps.meanPairwiseCosine(Tensor.of(new double[] {3, -1}, 1, 2), 16), 0);
        // The cap: only the first two samples count.
        assertEquals(-1, UnifiedBatchNormOps.meanPairwiseCosine(Tensor.of(new double[] {1, 2, -1, -2, 1, 2}, 3, 2), 2),
                1e-15);
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        Tensor x = Tensor.zeros(DType.F64, 2, 3, 4, 4);
        Tensor c3 = Tensor.zeros(DType.F64, 3);
        Tensor k3 = Tensor.zeros(DType.F64, 3, 1, 3, 3);
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(Tensor.zeros(DType.F64, 2, 3), c3, c3, c3, k3, c3,
                null, null, true, 1e-5), "input", "[2, 3]");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, Tensor.zeros(DType.F64, 2), c3, c3, k3, c3,
                null, null, true, 1e-5), "centerWeight", "[2]");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, c3, c3, c3, Tensor.zeros(DType.F64, 3, 1, 2, 2),
                c3, null, null, true, 1e-5), "convWeight", "[3, 1, 2, 2]");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, c3, c3, c3, Tensor.zeros(DType.F64, 3, 3, 3, 3),
                c3, null, null, true, 1e-5), "convWeight", "[3, 3, 3, 3]");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, c3, c3, c3, k3, null, null, null, true, 1e-5),
                "convBias", "null");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, c3, c3, c3, k3, Tensor.zeros(DType.F32, 3),
                null, null, true, 1e-5), "dtype", "F32");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(Tensor.zeros(DType.F64, 1, 3, 1, 1), c3, c3, c3, k3,
                c3, null, null, true, 1e-5), "more than 1 value per channel", "[1, 3, 1, 1]");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, c3, c3, c3, k3, c3, null, null, false, 1e-5),
                "runningMean", "[3]");
        assertMessage(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, c3, c3, c3, k3, c3, null, null, true, 0),
                "eps", "0");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> UnifiedBatchNormOps.meanPairwiseCosine(x, 0));
        assertTrue(e.getMessage().contains("maxSamples"), e.getMessage());
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith("unifiedBatchNorm2d"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }
}
