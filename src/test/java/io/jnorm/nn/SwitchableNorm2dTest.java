package io.jnorm.nn;

import static io.jnorm.testing.Close.assertClose;
import static io.jnorm.nn.SnUbnTestSupport.data;
import static io.jnorm.nn.SnUbnTestSupport.seq;
import static io.jnorm.nn.SnUbnTestSupport.tensor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SwitchableNorm2d against the spec's formulas (SnReference): modes, running state, options, errors. */
class SwitchableNorm2dTest {

    static Stream<Arguments> shapes() {
        int[][] s = {{1, 4, 3, 3}, {2, 3, 2, 2}, {2, 2, 1, 2}, {3, 5, 2, 3}, {4, 1, 3, 1}};
        Stream.Builder<Arguments> b = Stream.builder();
        for (int[] d : s) {
            b.add(Arguments.of(d, true));
            b.add(Arguments.of(d, false));
        }
        return b.build();
    }

    static void assign(Tensor t, double[] v) {
        t.backend().copy(Tensor.fromDoubles(v, t.shape(), t.dtype(), t.device()), t);
    }

    /** A layer with non-trivial logits and affine, so every mixed term matters. */
    static SwitchableNorm2d layer(int c, boolean usingBn, DType dtype) {
        SwitchableNorm2d sn = SwitchableNorm2d.builder(c).usingBn(usingBn).dtype(dtype).build();
        int terms = usingBn ? 3 : 2;
        assign(sn.parameter("mean_weight"), seq(21, terms, 0.8));
        assign(sn.parameter("var_weight"), seq(22, terms, 0.8));
        double[] g = seq(23, c, 0.2);
        for (int i = 0; i < c; i++) {
            g[i] += 1;
        }
        assign(sn.parameter("weight"), g);
        assign(sn.parameter("bias"), seq(24, c, 0.3));
        return sn;
    }

    @ParameterizedTest(name = "{0} usingBn={1}")
    @MethodSource("shapes")
    void trainingForwardAndFirstRunningUpdateMatchTheSpec(int[] d, boolean usingBn) {
        double[] xv = data(31, d[0], d[1], d[2], d[3]);
        try (SwitchableNorm2d sn = layer(d[1], usingBn, DType.F64)) {
            Tensor y = sn.forward(tensor(xv, DType.F64, d));
            SnReference ref = new SnReference(xv, d[0], d[1], d[2], d[3]);
            double[] expected = ref.output(xv, sn.parameter("mean_weight").toDoubleArray(),
                    sn.parameter("var_weight").toDoubleArray(), sn.parameter("weight").toDoubleArray(),
                    sn.parameter("bias").toDoubleArray(), null, null, 1e-5);
            assertClose("y", expected, y, 1e-12, 1e-12);
            if (usingBn) {
                // Buffers start at 0, so one step with keep 0.9 leaves 0.1·batch.
                assertClose("running_mean", scale(ref.meanBn, 0.1), sn.buffer("running_mean"), 1e-14, 1e-12);
                assertClose("running_var", scale(ref.varBn, 0.1), sn.buffer("running_var"), 1e-14, 1e-12);
            } else {
                assertTrue(sn.namedBuffers().isEmpty(), "no buffers without BN: " + sn.namedBuffers().keySet());
                assertEquals(2, sn.parameter("mean_weight").numel());
            }
        }
    }

    @ParameterizedTest(name = "{0} usingBn={1}")
    @MethodSource("shapes")
    void evaluationUsesTheRunningStatistics(int[] d, boolean usingBn) {
        double[] xv = data(32, d[0], d[1], d[2], d[3]);
        try (SwitchableNorm2d sn = layer(d[1], usingBn, DType.F64)) {
            double[] rm = seq(33, d[1], 0.5);
            double[] rv = seq(34, d[1], 0.1);
            for (int i = 0; i < rv.length; i++) {
                rv[i] += 1.5;
            }
            if (usingBn) {
                assign(sn.buffer("running_mean"), rm);
                assign(sn.buffer("running_var"), rv);
            }
            sn.eval();
            Tensor y = sn.forward(tensor(xv, DType.F64, d));
            double[] expected = new SnReference(xv, d[0], d[1], d[2], d[3]).output(xv,
                    sn.parameter("mean_weight").toDoubleArray(), sn.parameter("var_weight").toDoubleArray(),
                    sn.parameter("weight").toDoubleArray(), sn.parameter("bias").toDoubleArray(), rm, rv, 1e-5);
            assertClose("y", expected, y, 1e-12, 1e-12);
            if (usingBn) {
                assertClose("running_mean unchanged in eval", rm, sn.buffer("running_mean"), 0, 0);
            }
        }
    }

    @ParameterizedTest(name = "{0} usingBn={1}")
    @MethodSource("shapes")
    void moduleGradcheckInTrainingAndEvaluation(int[] d, boolean usingBn) {
        try (SwitchableNorm2d sn = layer(d[1], usingBn, DType.F64)) {
            Tensor x = tensor(data(35, d[0], d[1], d[2], d[3]), DType.F64, d).requiresGrad(true);
            io.jnorm.autograd.Gradcheck.Result train = ModuleGradcheck.check(sn, x);
            assertTrue(train.passed(), "train: " + train.message());
            if (usingBn) {
                double[] rv = seq(36, d[1], 0.1);
                for (int i = 0; i < rv.length; i++) {
                    rv[i] += 1.2;
                }
                assign(sn.buffer("running_var"), rv);
            }
            sn.eval();
            io.jnorm.autograd.Gradcheck.Result eval = ModuleGradcheck.check(sn, x);
            assertTrue(eval.passed(), "eval: " + eval.message());
        }
    }

    @Test
    void severalMovingAverageStepsThenEvaluation() {
        int n = 2;
        int c = 3;
        double keep = 0.8;
        try (SwitchableNorm2d sn = SwitchableNorm2d.builder(c).momentum(keep).dtype(DType.F64).build()) {
            double[] rm = new double[c];
            double[] rv = new double[c];
            for (int step = 0; step < 4; step++) {
                double[] xv = data(40 + step, n, c, 3, 2);
                sn.forward(tensor(xv, DType.F64, n, c, 3, 2));
                SnReference ref = new SnReference(xv, n, c, 3, 2);
                for (int ch = 0; ch < c; ch++) {
                    rm[ch] = keep * rm[ch] + (1 - keep) * ref.meanBn[ch];
                    rv[ch] = keep * rv[ch] + (1 - keep) * ref.varBn[ch];
                }
            }
            assertClose("running_mean after 4 steps", rm, sn.buffer("running_mean"), 1e-14, 1e-12);
            assertClose("running_var after 4 steps", rv, sn.buffer("running_var"), 1e-14, 1e-12);
            sn.eval();
            double[] xv = data(50, 1, c, 3, 2);
            Tensor y = sn.forward(tensor(xv, DType.F64, 1, c, 3, 2));
            double[] ones = {1, 1, 1};
            double[] expected = new SnReference(xv, 1, c, 3, 2).output(xv, ones, ones, ones, new double[c], rm, rv, 1e-5);
            assertClose("eval y", expected, y, 1e-12, 1e-12);
            // Evaluation is stateless: a second pass gives the same output and leaves the buffers.
            assertClose("second eval", y.toDoubleArray(), sn.forward(tensor(xv, DType.F64, 1, c, 3, 2)), 0, 0);
            assertClose("running_mean after eval", rm, sn.buffer("running_mean"), 1e-14, 1e-12);
        }
    }

    @Test
    void batchAverageAccumulatesThenFinalizesToPooledStatistics() {
        int n = 2;
        int c = 3;
        int h = 3;
        int w = 3;
        int l = h * w;
        int k = 3;
        try (SwitchableNorm2d sn = SwitchableNorm2d.builder(c).movingAverage(false).dtype(DType.F64).build()) {
            sn.forward(tensor(data(60, n, c, h, w), DType.F64, n, c, h, w));
            assertClose("running_mean untouched by training", new double[c], sn.buffer("running_mean"), 0, 0);
            sn.resetBatchAverage();
            double[][] batches = new double[k][];
            try (GradMode.Guard g = GradMode.noGrad()) {
                for (int b = 0; b < k; b++) {
                    batches[b] = data(61 + b, n, c, h, w);
                    sn.forward(tensor(batches[b], DType.F64, n, c, h, w));
                }
            }
            assertEquals(k, sn.buffer("batch_average_count").item());
            sn.finalizeBatchAverage();
            // Independent characterization (spec §3.3): the pooled mean of all K·N·L values, and
            // the pooled biased variance plus the mean biased instance variance over (L - 1).
            double[] mean = new double[c];
            double[] var = new double[c];
            for (int ch = 0; ch < c; ch++) {
                double s = 0;
                double inflation = 0;
                for (double[] xb : batches) {
                    for (int i = 0; i < n; i++) {
                        double si = 0;
                        for (int p = 0; p < l; p++) {
                            si += xb[(i * c + ch) * l + p];
                        }
                        s += si;
                        double mi = si / l;
                        double q = 0;
                        for (int p = 0; p < l; p++) {
                            double dv = xb[(i * c + ch) * l + p] - mi;
                            q += dv * dv;
                        }
                        inflation += q / l / (l - 1);
                    }
                }
                mean[ch] = s / (k * n * l);
                double q = 0;
                for (double[] xb : batches) {
                    for (int i = 0; i < n; i++) {
                        for (int p = 0; p < l; p++) {
                            double dv = xb[(i * c + ch) * l + p] - mean[ch];
                            q += dv * dv;
                        }
                    }
                }
                var[ch] = q / (k * n * l) + inflation / (k * n);
            }
            assertClose("pooled running_mean", mean, sn.buffer("running_mean"), 1e-13, 1e-12);
            assertClose("pooled running_var", var, sn.buffer("running_var"), 1e-13, 1e-12);
            sn.finalizeBatchAverage();
            assertClose("finalize is idempotent", var, sn.buffer("running_var"), 1e-13, 1e-12);
            sn.eval();
            double[] xv = data(70, n, c, h, w);
            double[] ones = {1, 1, 1};
            double[] expected = new SnReference(xv, n, c, h, w).output(xv, ones, ones, ones, new double[c],
                    mean, var, 1e-5);
            assertClose("eval with the batch average", expected, sn.forward(tensor(xv, DType.F64, n, c, h, w)),
                    1e-12, 1e-12);
        }
    }

    @Test
    void networkHelpersResetAndFinalizeEveryBatchAverageLayer() {
        class Two extends Module {
            final SwitchableNorm2d a = registerModule("a",
                    SwitchableNorm2d.builder(2).movingAverage(false).dtype(DType.F64).build());
            final SwitchableNorm2d b = registerModule("b", SwitchableNorm2d.builder(2).dtype(DType.F64).build());

            @Override
            public Tensor forward(Tensor x) {
                return b.forward(a.forward(x));
            }
        }
        try (Two net = new Two()) {
            net.forward(tensor(data(80, 2, 2, 2, 2), DType.F64, 2, 2, 2, 2));
            SwitchableNorm2d.resetBatchAverages(net);
            assertEquals(0, net.a.buffer("batch_average_count").item());
            assertThrows(IllegalStateException.class, () -> SwitchableNorm2d.finalizeBatchAverages(net));
            double[] xv = data(81, 2, 2, 2, 2);
            net.forward(tensor(xv, DType.F64, 2, 2, 2, 2));
            SwitchableNorm2d.finalizeBatchAverages(net);
            SnReference ref = new SnReference(xv, 2, 2, 2, 2);
            assertClose("one batch: running_mean = batch mean", ref.meanBn, net.a.buffer("running_mean"), 1e-14, 1e-12);
            assertClose("one batch: running_var = derived batch var", ref.varBn, net.a.buffer("running_var"),
                    1e-13, 1e-12);
        }
    }

    @Test
    void recomputeBatchAveragesRunsTheRecipeAndRestoresTheMode() {
        try (SwitchableNorm2d a = SwitchableNorm2d.builder(2).movingAverage(false).dtype(DType.F64).build();
             SwitchableNorm2d b = SwitchableNorm2d.builder(2).movingAverage(false).dtype(DType.F64).build()) {
            java.util.List<Tensor> batches = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                batches.add(tensor(data(85 + i, 2, 2, 3, 3), DType.F64, 2, 2, 3, 3));
            }
            a.forward(tensor(data(84, 2, 2, 3, 3), DType.F64, 2, 2, 3, 3));
            a.eval();
            SwitchableNorm2d.recomputeBatchAverages(a, batches);
            assertFalse(a.isTraining(), "mode restored");
            b.resetBatchAverage();
            batches.forEach(b::forward);
            b.finalizeBatchAverage();
            assertClose("running_mean", b.buffer("running_mean").toDoubleArray(), a.buffer("running_mean"), 0, 0);
            assertClose("running_var", b.buffer("running_var").toDoubleArray(), a.buffer("running_var"), 0, 0);
            assertEquals(3, a.buffer("batch_average_count").item());
        }
    }

    @Test
    void batchAverageMethodsRefuseMovingAverageLayers() {
        try (SwitchableNorm2d sn = new SwitchableNorm2d(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, sn::finalizeBatchAverage);
            assertTrue(e.getMessage().contains("batch-average"), e.getMessage());
            assertThrows(IllegalStateException.class, sn::resetBatchAverage);
        }
    }

    @Test
    void float32AgreesWithFloat64() {
        int[] d = {2, 3, 3, 2};
        double[] xv = data(90, 2, 3, 3, 2);
        double[] dy = seq(91, 36, 1.0);
        double[][] results = new double[2][];
        double[][] grads = new double[2][];
        DType[] types = {DType.F64, DType.F32};
        for (int t = 0; t < 2; t++) {
            try (SwitchableNorm2d sn = layer(3, true, types[t])) {
                Tensor x = tensor(xv, types[t], d).requiresGrad(true);
                Tensor y = sn.forward(x);
                y.backward(tensor(dy, types[t], d));
                results[t] = y.toDoubleArray();
                grads[t] = concat(x.grad().toDoubleArray(), sn.parameter("mean_weight").grad().toDoubleArray(),
                        sn.parameter("var_weight").grad().toDoubleArray(), sn.parameter("weight").grad().toDoubleArray());
                assertEquals(types[t], sn.buffer("running_var").dtype());
            }
        }
        assertClose("float32 y", results[0], results[1], 1e-5, 1e-5);
        assertClose("float32 gradients", grads[0], grads[1], 1e-4, 1e-4);
    }

    @Test
    void lastGammaStartsAsTheBiasWithZeroInputAndLogitGradients() {
        try (SwitchableNorm2d sn = SwitchableNorm2d.builder(3).lastGamma(true).dtype(DType.F64).build()) {
            assertClose("weight init", new double[3], sn.parameter("weight"), 0, 0);
            Tensor x = tensor(data(100, 2, 3, 2, 2), DType.F64, 2, 3, 2, 2).requiresGrad(true);
            Tensor y = sn.forward(x);
            assertClose("y = bias = 0", new double[24], y, 0, 0);
            y.backward(tensor(seq(101, 24, 1.0), DType.F64, 2, 3, 2, 2));
            assertClose("dx", new double[24], x.grad(), 0, 0);
            assertClose("dmean_weight", new double[3], sn.parameter("mean_weight").grad(), 0, 0);
            assertClose("dvar_weight", new double[3], sn.parameter("var_weight").grad(), 0, 0);
            assertTrue(maxAbs(sn.parameter("weight").grad().toDoubleArray()) > 1e-3, "dweight is non-zero");
            assertTrue(maxAbs(sn.parameter("bias").grad().toDoubleArray()) > 1e-3, "dbias is non-zero");
        }
    }

    @Test
    void singleSampleTrainingMakesBnEqualIn() {
        double[] xv = data(110, 1, 4, 3, 3);
        try (SwitchableNorm2d sn = SwitchableNorm2d.builder(4).momentum(0).dtype(DType.F64).build()) {
            sn.forward(tensor(xv, DType.F64, 1, 4, 3, 3));
            SnReference ref = new SnReference(xv, 1, 4, 3, 3);
            // keep 0 copies the batch statistics, which for N = 1 are the instance statistics.
            assertClose("mean_bn = mean_in", ref.meanIn, sn.buffer("running_mean"), 1e-14, 1e-12);
            assertClose("var_bn = var_in", ref.varIn, sn.buffer("running_var"), 1e-14, 1e-12);
        }
    }

    @Test
    void evaluationBeforeAnyTrainingIsFinite() {
        try (SwitchableNorm2d sn = SwitchableNorm2d.builder(3).dtype(DType.F64).build()) {
            sn.eval();
            double[] xv = data(120, 2, 3, 2, 2);
            Tensor y = sn.forward(tensor(xv, DType.F64, 2, 3, 2, 2));
            for (double v : y.toDoubleArray()) {
                assertFalse(Double.isNaN(v) || Double.isInfinite(v), "finite output");
            }
            double[] ones = {1, 1, 1};
            double[] expected = new SnReference(xv, 2, 3, 2, 2).output(xv, ones, ones, ones, new double[3],
                    new double[3], new double[3], 1e-5);
            assertClose("zero running stats", expected, y, 1e-12, 1e-12);
        }
    }

    @Test
    void stateRoundTripsThroughBuffers() {
        try (SwitchableNorm2d a = SwitchableNorm2d.builder(2).dtype(DType.F64).build();
             SwitchableNorm2d b = SwitchableNorm2d.builder(2).dtype(DType.F64).build()) {
            a.forward(tensor(data(130, 2, 2, 2, 2), DType.F64, 2, 2, 2, 2));
            a.namedBuffers().forEach((k, v) -> assign(b.buffer(k), v.toDoubleArray()));
            a.namedParameters().forEach((k, v) -> assign(b.parameter(k), v.toDoubleArray()));
            a.eval();
            b.eval();
            Tensor x = tensor(data(131, 2, 2, 2, 2), DType.F64, 2, 2, 2, 2);
            assertClose("loaded layer", a.forward(x).toDoubleArray(), b.forward(x), 0, 0);
        }
    }

    @Test
    void badInputAndOptionsAreClearErrors() {
        try (SwitchableNorm2d sn = new SwitchableNorm2d(3)) {
            assertMessage(() -> sn.forward(Tensor.zeros(DType.F32, 2, 4, 2, 2)), "[N, 3, H, W]", "[2, 4, 2, 2]");
            assertMessage(() -> sn.forward(Tensor.zeros(DType.F32, 2, 3, 4)), "[2, 3, 4]");
            assertMessage(() -> sn.forward(Tensor.zeros(DType.F64, 2, 3, 2, 2)), "F64", "F32");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> sn.forward(Tensor.zeros(DType.F32, 2, 3, 1, 1)));
            assertTrue(e.getMessage().contains("H·W >= 2") && e.getMessage().contains("[2, 3, 1, 1]"), e.getMessage());
        }
        assertMessage(() -> SwitchableNorm2d.builder(0).build(), "channels", "0");
        assertMessage(() -> SwitchableNorm2d.builder(2).momentum(1.5).build(), "momentum", "1.5");
        assertMessage(() -> SwitchableNorm2d.builder(2).eps(Double.NaN).build(), "eps", "NaN");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String... parts) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains("witchableNorm2d"), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void logitsTrainAwayFromUniformUnderALoss() {
        // The softmax of the logits is what the layer mixes: after a gradient step on a loss that
        // prefers IN statistics, the IN weight grows.
        try (SwitchableNorm2d sn = SwitchableNorm2d.builder(2).dtype(DType.F64).build()) {
            Tensor x = tensor(data(140, 4, 2, 3, 3), DType.F64, 4, 2, 3, 3);
            Tensor y = sn.forward(x);
            Tensor target;
            try (GradMode.Guard g = GradMode.noGrad()) {
                SwitchableNorm2d in = SwitchableNorm2d.builder(2).dtype(DType.F64).build();
                assign(in.parameter("mean_weight"), new double[] {20, 0, 0});
                assign(in.parameter("var_weight"), new double[] {20, 0, 0});
                target = in.forward(x);
            }
            Tensor diff = Ops.sub(y, target);
            Ops.sum(Ops.mul(diff, diff)).backward();
            double[] gm = sn.parameter("mean_weight").grad().toDoubleArray();
            assertTrue(gm[0] < 0 && gm[0] < gm[1] && gm[0] < gm[2], "descent raises the IN mean logit: "
                    + java.util.Arrays.toString(gm));
            assertNull(x.grad());
        }
    }

    private static double[] scale(double[] v, double s) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = v[i] * s;
        }
        return o;
    }

    private static double[] concat(double[]... parts) {
        return Stream.of(parts).flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double d : v) {
            m = Math.max(m, Math.abs(d));
        }
        return m;
    }
}
