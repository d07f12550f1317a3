package io.jnorm.nn;

import static io.jnorm.testing.Close.assertClose;
import static io.jnorm.nn.SnUbnTestSupport.data;
import static io.jnorm.nn.SnUbnTestSupport.seq;
import static io.jnorm.nn.SnUbnTestSupport.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.nn.UnifiedBatchNorm2d.ConvInit;
import io.jnorm.nn.UnifiedBatchNorm2d.GateDirection;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** UnifiedBatchNorm2d against the spec's formulas (UbnReference): gate, branches, running state, options, errors. */
class UnifiedBatchNorm2dTest {

    static void assign(Tensor t, double[] v) {
        t.backend().copy(Tensor.fromDoubles(v, t.shape(), t.dtype(), t.device()), t);
    }

    /** Non-trivial calibration parameters, so every term of the forward matters. */
    static void randomize(UnifiedBatchNorm2d m, int c) {
        assign(m.parameter("center_weight"), seq(201, c, 0.5));
        assign(m.parameter("scale_weight"), seq(202, c, 0.8));
        assign(m.parameter("scale_bias"), seq(203, c, 0.8));
    }

    static double[] get(UnifiedBatchNorm2d m, String name) {
        Tensor t = m.parameter(name) != null ? m.parameter(name) : m.buffer(name);
        return t == null ? null : t.toDoubleArray();
    }

    static UbnReference.Result reference(UnifiedBatchNorm2d m, double[] x, int[] d, boolean batch) {
        return UbnReference.forward(x, d[0], d[1], d[2], d[3], get(m, "center_weight"), get(m, "scale_weight"),
                get(m, "scale_bias"), get(m, "conv_weight"), m.kernel(), get(m, "conv_bias"),
                get(m, "running_mean"), get(m, "running_var"), batch, m.eps());
    }

    static Stream<Arguments> shapes() {
        Object[][] g = {
            {new int[] {1, 3, 4, 4}, 3, true}, {new int[] {2, 3, 4, 4}, 3, true}, {new int[] {2, 2, 1, 1}, 3, true},
            {new int[] {3, 2, 3, 5}, 5, true}, {new int[] {20, 2, 3, 3}, 3, true}, {new int[] {2, 4, 2, 3}, 1, false},
        };
        return Stream.of(g).map(Arguments::of);
    }

    @ParameterizedTest(name = "{0} k={1} affine={2}")
    @MethodSource("shapes")
    void trainingStepsWithTheGateOpenMatchTheSpec(int[] d, int k, boolean affine) {
        int c = d[1];
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(c).kernel(k).affine(affine).rng(new Rng(7))
                .dtype(DType.F64).build()) {
            randomize(m, c);
            double cos = 1;
            int count = d[0] * d[2] * d[3];
            for (int step = 0; step < 3; step++) {
                // A shared offset keeps the samples similar, so the gate stays open.
                double[] xv = data(210 + step, d[0], c, d[2], d[3]);
                for (int i = 0; i < xv.length; i++) {
                    xv[i] += 2;
                }
                UbnReference.Result ref = reference(m, xv, d, true);
                double[] rm = get(m, "running_mean");
                double[] rv = get(m, "running_var");
                Tensor y = m.forward(tensor(xv, DType.F64, d));
                cos = 0.9 * cos + 0.1 * UbnReference.cosine(xv, d[0], c * d[2] * d[3], 16);
                assertTrue(m.lastUsedBatchStats(), "gate open at step " + step + ", moving_cos " + cos);
                assertClose("y step " + step, ref.y(), y, 1e-12, 1e-12);
                assertEquals(cos, m.movingCos(), 1e-15);
                for (int ch = 0; ch < c; ch++) {
                    rm[ch] = 0.9 * rm[ch] + 0.1 * ref.batchMean()[ch];
                    rv[ch] = 0.9 * rv[ch] + 0.1 * ref.batchVarBiased()[ch] * count / (count - 1);
                }
                assertClose("running_mean step " + step, rm, m.buffer("running_mean"), 1e-14, 1e-12);
                assertClose("running_var step " + step, rv, m.buffer("running_var"), 1e-14, 1e-12);
                assertEquals(step + 1, m.buffer("num_batches_tracked").item());
            }
            m.eval();
            double[] xv = data(220, d[0], c, d[2], d[3]);
            UbnReference.Result ref = reference(m, xv, d, false);
            double[] rm = get(m, "running_mean");
            assertClose("eval y", ref.y(), m.forward(tensor(xv, DType.F64, d)), 1e-12, 1e-12);
            assertFalse(m.lastUsedBatchStats());
            assertClose("eval leaves running_mean", rm, m.buffer("running_mean"), 0, 0);
            // The code's evaluation still moves the gate.
            assertEquals(0.9 * cos + 0.1 * UbnReference.cosine(xv, d[0], c * d[2] * d[3], 16), m.movingCos(), 1e-15);
            assertEquals(3, m.buffer("num_batches_tracked").item());
        }
    }

    /** The grid without the 20-sample case, which only exercises the similarity cap. */
    static Stream<Arguments> smallShapes() {
        return shapes().filter(a -> ((int[]) a.get()[0])[0] <= 4);
    }

    @ParameterizedTest(name = "{0} k={1} affine={2}")
    @MethodSource("smallShapes")
    void moduleGradcheckWithTheGateOpenClosedAndInEvaluation(int[] d, int k, boolean affine) {
        // A bound below -1 keeps the gate open whatever the similarity, above 1 keeps it closed,
        // so the finite differences never flip it.
        for (double bound : new double[] {-2, 2}) {
            try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(d[1]).kernel(k).affine(affine).bound(bound)
                    .rng(new Rng(9)).dtype(DType.F64).build()) {
                randomize(m, d[1]);
                assign(m.buffer("running_mean"), seq(225, d[1], 0.3));
                Tensor x = tensor(data(226, d[0], d[1], d[2], d[3]), DType.F64, d).requiresGrad(true);
                io.jnorm.autograd.Gradcheck.Result train = ModuleGradcheck.check(m, x);
                assertTrue(train.passed(), "train, bound " + bound + ": " + train.message());
                assertEquals(bound < 0, m.lastUsedBatchStats());
                m.eval();
                io.jnorm.autograd.Gradcheck.Result eval = ModuleGradcheck.check(m, x);
                assertTrue(eval.passed(), "eval: " + eval.message());
            }
        }
    }

    @Test
    void closedGateNormalizesWithFrozenRunningStatistics() {
        int[] d = {4, 3, 3, 3};
        // Bound 0.95: one step of dissimilar samples (c near 0) takes moving_cos to about 0.9.
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(3).bound(0.95).dtype(DType.F64).build()) {
            randomize(m, 3);
            assign(m.buffer("running_mean"), new double[] {0.2, -0.1, 0.3});
            assign(m.buffer("running_var"), new double[] {1.5, 0.7, 2.0});
            double[] xv = seq(230, 4 * 27, 1.0);
            UbnReference.Result ref = reference(m, xv, d, false);
            Tensor y = m.forward(tensor(xv, DType.F64, d));
            assertTrue(m.movingCos() < 0.95, "moving_cos " + m.movingCos());
            assertFalse(m.lastUsedBatchStats());
            assertClose("running-branch y in training", ref.y(), y, 1e-12, 1e-12);
            assertClose("running_mean frozen", new double[] {0.2, -0.1, 0.3}, m.buffer("running_mean"), 0, 0);
            assertClose("running_var frozen", new double[] {1.5, 0.7, 2.0}, m.buffer("running_var"), 0, 0);
            assertEquals(1, m.buffer("num_batches_tracked").item(), "gated steps are still counted");
            // Identical samples (c = 1) raise moving_cos back above the bound: the gate reopens.
            double[] same = new double[4 * 27];
            double[] one = seq(231, 27, 1.0);
            for (int s = 0; s < 4; s++) {
                System.arraycopy(one, 0, same, s * 27, 27);
            }
            for (int step = 0; step < 60 && !m.lastUsedBatchStats(); step++) {
                m.forward(tensor(same, DType.F64, d));
            }
            assertTrue(m.lastUsedBatchStats(), "gate reopened, moving_cos " + m.movingCos());
            assertTrue(m.movingCos() > 0.95);
        }
    }

    @Test
    void gateDirectionBelowOpensOnDissimilarSamples() {
        int[] d = {4, 2, 3, 3};
        try (UnifiedBatchNorm2d above = UnifiedBatchNorm2d.builder(2).bound(0.95).dtype(DType.F64).build();
             UnifiedBatchNorm2d below = UnifiedBatchNorm2d.builder(2).bound(0.95)
                     .gateDirection(GateDirection.BATCH_STATS_WHEN_AT_OR_BELOW).dtype(DType.F64).build()) {
            double[] xv = seq(240, 4 * 18, 1.0);
            above.forward(tensor(xv, DType.F64, d));
            below.forward(tensor(xv, DType.F64, d));
            assertFalse(above.lastUsedBatchStats());
            assertTrue(below.lastUsedBatchStats());
            UbnReference.Result ref = UbnReference.forward(xv, 4, 2, 3, 3, new double[2], new double[2],
                    new double[] {1, 1}, null, 1, null, null, null, true, 1e-5);
            assertEquals(0.1 * ref.batchMean()[1], below.buffer("running_mean").get(1), 1e-15);
        }
    }

    @Test
    void evaluationCanLeaveTheGateAlone() {
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(2).updateGateInEval(false).dtype(DType.F64).build()) {
            m.eval();
            m.forward(tensor(seq(250, 2 * 18, 1.0), DType.F64, 2, 2, 3, 3));
            assertEquals(1.0, m.movingCos(), 0);
            m.train();
            m.forward(tensor(seq(251, 2 * 18, 1.0), DType.F64, 2, 2, 3, 3));
            assertTrue(m.movingCos() < 1.0, "training still moves the gate");
        }
    }

    @Test
    void cumulativeAverageCountsGatedSteps() {
        int[] d = {2, 2, 2, 2};
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(2).cumulativeAverage().bound(0.95)
                .dtype(DType.F64).build()) {
            double[] xv = {1, -1, 2, 0, 3, 1, -2, 0, -1, 1, -2, 0, -3, -1, 2, 0};
            // Samples are exact negatives: c = -1, moving_cos 0.8 <= 0.95, gate closed.
            m.forward(tensor(xv, DType.F64, d));
            assertFalse(m.lastUsedBatchStats());
            double[] same = new double[16];
            System.arraycopy(xv, 0, same, 0, 8);
            System.arraycopy(xv, 0, same, 8, 8);
            int steps = 1;
            while (!m.lastUsedBatchStats()) {
                m.forward(tensor(same, DType.F64, d));
                steps++;
            }
            // First update with factor 1/steps, from the initial (0, 1).
            UbnReference.Result ref = UbnReference.forward(same, 2, 2, 2, 2, new double[2], new double[2],
                    new double[] {1, 1}, null, 1, null, null, null, true, 1e-5);
            double f = 1.0 / steps;
            double[] rm = new double[2];
            double[] rv = new double[2];
            for (int ch = 0; ch < 2; ch++) {
                rm[ch] = f * ref.batchMean()[ch];
                rv[ch] = (1 - f) + f * ref.batchVarBiased()[ch] * 8 / 7;
            }
            assertClose("cumulative running_mean", rm, m.buffer("running_mean"), 1e-14, 1e-12);
            assertClose("cumulative running_var", rv, m.buffer("running_var"), 1e-14, 1e-12);
            assertEquals(steps, m.buffer("num_batches_tracked").item());
        }
    }

    @Test
    void singleSampleUsesBatchStatisticsOverHw() {
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(3).bound(0.999).dtype(DType.F64).build()) {
            double[] xv = data(260, 1, 3, 4, 4);
            m.forward(tensor(xv, DType.F64, 1, 3, 4, 4));
            assertEquals(1.0, m.movingCos(), 0, "c = 1 for one sample keeps moving_cos at 1");
            assertTrue(m.lastUsedBatchStats());
        }
    }

    @Test
    void oneValuePerChannelIsAnErrorOnlyForBatchStatistics() {
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(3).dtype(DType.F64).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(tensor(new double[] {1, 2, 3}, DType.F64, 1, 3, 1, 1)));
            assertTrue(e.getMessage().contains("UnifiedBatchNorm2d") && e.getMessage().contains("[1, 3, 1, 1]")
                    && e.getMessage().contains("more than 1 value per channel"), e.getMessage());
            assertEquals(0, m.buffer("num_batches_tracked").item(), "state untouched by the failed call");
            assertEquals(1.0, m.movingCos(), 0);
            m.eval();
            double[] ref = UbnReference.forward(new double[] {1, 2, 3}, 1, 3, 1, 1, new double[3], new double[3],
                    new double[] {1, 1, 1}, get(m, "conv_weight"), 3, get(m, "conv_bias"), new double[3],
                    new double[] {1, 1, 1}, false, 1e-5).y();
            assertClose("eval N=1, H·W=1", ref, m.forward(tensor(new double[] {1, 2, 3}, DType.F64, 1, 3, 1, 1)),
                    1e-12, 1e-12);
        }
    }

    @Test
    void nanInputClosesTheGateForGood() {
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(2).dtype(DType.F64).build()) {
            double[] xv = data(270, 2, 2, 2, 2);
            xv[3] = Double.NaN;
            m.forward(tensor(xv, DType.F64, 2, 2, 2, 2));
            assertTrue(Double.isNaN(m.movingCos()));
            for (int step = 0; step < 3; step++) {
                m.forward(tensor(data(271 + step, 2, 2, 2, 2), DType.F64, 2, 2, 2, 2));
                assertFalse(m.lastUsedBatchStats());
            }
            assertClose("running_mean never updated", new double[2], m.buffer("running_mean"), 0, 0);
        }
    }

    @Test
    void identityConvWithInitialCalibrationIsScaledBatchNorm() {
        // Spec §3.3: w_c = w_s = 0, b_s = 1 and an identity conv give sigmoid(1)·BN(x).
        int[] d = {2, 3, 3, 3};
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(3).convInit(ConvInit.IDENTITY).dtype(DType.F64).build()) {
            double[] xv = data(280, 2, 3, 3, 3);
            double[] y = m.forward(tensor(xv, DType.F64, d)).toDoubleArray();
            double[] expected = new double[xv.length];
            for (int ch = 0; ch < 3; ch++) {
                double s = 0;
                double sq = 0;
                for (int n = 0; n < 2; n++) {
                    for (int q = 0; q < 9; q++) {
                        double v = xv[(n * 3 + ch) * 9 + q];
                        s += v;
                        sq += v * v;
                    }
                }
                double mu = s / 18;
                double var = sq / 18 - mu * mu;
                for (int n = 0; n < 2; n++) {
                    for (int q = 0; q < 9; q++) {
                        int i = (n * 3 + ch) * 9 + q;
                        expected[i] = 0.7310585786300049 * (xv[i] - mu) / Math.sqrt(var + 1e-5);
                    }
                }
            }
            assertClose("sigmoid(1)·BN(x)", expected, y, 1e-12, 1e-12);
        }
    }

    @Test
    void convInitsHaveTheDocumentedScale() {
        int c = 64;
        try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(c).rng(new Rng(3)).dtype(DType.F64).build();
             UnifiedBatchNorm2d p = UnifiedBatchNorm2d.builder(c).convInit(ConvInit.PYTORCH_DEFAULT).dtype(DType.F64)
                     .build()) {
            double[] k = get(m, "conv_weight");
            double sq = 0;
            for (double v : k) {
                sq += v * v;
            }
            double std = Math.sqrt(sq / k.length);
            double expected = Math.sqrt(2.0 / (9 * c));
            assertEquals(expected, std, 0.1 * expected, "kaiming fan_out std");
            for (double v : get(m, "conv_bias")) {
                assertTrue(Math.abs(v) <= 1.0 / 3, "bias within 1/k: " + v);
            }
            for (double v : get(p, "conv_weight")) {
                assertTrue(Math.abs(v) <= 1.0 / 3, "default weight within 1/k: " + v);
            }
        }
    }

    @Test
    void float32AgreesWithFloat64() {
        int[] d = {3, 2, 4, 4};
        double[] xv = data(290, 3, 2, 4, 4);
        for (int i = 0; i < xv.length; i++) {
            xv[i] += 1.5;
        }
        double[] dy = seq(291, xv.length, 1.0);
        double[][] out = new double[2][];
        DType[] types = {DType.F64, DType.F32};
        for (int t = 0; t < 2; t++) {
            try (UnifiedBatchNorm2d m = UnifiedBatchNorm2d.builder(2).rng(new Rng(5)).dtype(types[t]).build()) {
                randomize(m, 2);
                Tensor x = tensor(xv, types[t], d).requiresGrad(true);
                Tensor y = m.forward(x);
                assertTrue(m.lastUsedBatchStats());
                y.backward(tensor(dy, types[t], d));
                out[t] = Stream.of(y.toDoubleArray(), x.grad().toDoubleArray(), get(m, "running_var"),
                                m.parameter("conv_weight").grad().toDoubleArray(),
                                m.parameter("center_weight").grad().toDoubleArray(),
                                m.parameter("scale_weight").grad().toDoubleArray())
                        .flatMapToDouble(java.util.Arrays::stream).toArray();
            }
        }
        assertClose("float32 vs float64", out[0], out[1], 1e-4, 1e-4);
    }

    @Test
    void stateDictRoundTripIncludesTheGate() {
        try (UnifiedBatchNorm2d a = UnifiedBatchNorm2d.builder(2).rng(new Rng(1)).dtype(DType.F64).build();
             UnifiedBatchNorm2d b = UnifiedBatchNorm2d.builder(2).rng(new Rng(2)).dtype(DType.F64).build()) {
            for (int step = 0; step < 2; step++) {
                a.forward(tensor(data(300 + step, 2, 2, 3, 3), DType.F64, 2, 2, 3, 3));
            }
            Map<String, Tensor> state = a.stateDict();
            assertTrue(state.containsKey("moving_cos") && state.containsKey("num_batches_tracked"), state.keySet().toString());
            b.loadStateDict(state);
            assertEquals(a.movingCos(), b.movingCos(), 0);
            a.eval();
            b.eval();
            Tensor x = tensor(data(310, 2, 2, 3, 3), DType.F64, 2, 2, 3, 3);
            assertClose("loaded layer", a.forward(x).toDoubleArray(), b.forward(x), 0, 0);
            assertEquals(a.movingCos(), b.movingCos(), 0);
        }
    }

    @Test
    void badInputAndOptionsAreClearErrors() {
        try (UnifiedBatchNorm2d m = new UnifiedBatchNorm2d(3)) {
            assertMessage(() -> m.forward(Tensor.zeros(DType.F32, 2, 4, 2, 2)), "[N, 3, H, W]", "[2, 4, 2, 2]");
            assertMessage(() -> m.forward(Tensor.zeros(DType.F32, 2, 3, 4)), "[2, 3, 4]");
            assertMessage(() -> m.forward(Tensor.zeros(DType.F64, 2, 3, 2, 2)), "F64", "F32");
        }
        assertMessage(() -> UnifiedBatchNorm2d.builder(0).build(), "channels", "0");
        assertMessage(() -> UnifiedBatchNorm2d.builder(2).kernel(2).build(), "kernel", "2");
        assertMessage(() -> UnifiedBatchNorm2d.builder(2).cosSamples(0).build(), "cosSamples", "0");
        assertMessage(() -> UnifiedBatchNorm2d.builder(2).momentumCos(1.5).build(), "momentumCos", "1.5");
        assertMessage(() -> UnifiedBatchNorm2d.builder(2).momentum(-0.1).build(), "momentum", "-0.1");
        assertMessage(() -> UnifiedBatchNorm2d.builder(2).eps(0).build(), "eps", "0");
        assertMessage(() -> UnifiedBatchNorm2d.builder(2).bound(Double.NaN).build(), "bound", "NaN");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains("UnifiedBatchNorm2d"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }
}
