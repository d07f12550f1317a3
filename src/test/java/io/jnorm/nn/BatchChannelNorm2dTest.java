package io.jnorm.nn;

import static io.jnorm.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.norm.BatchChannelNormOp;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Batch-Channel Norm against references written from spec-ws-bcn-sn.md §2.1-2.7. */
class BatchChannelNorm2dTest {
    static final double EPS = 1e-5;

    // ------------------------------------------------------------ the reference, from the spec

    /** Both flavours of BCN in float64, with their state; forward and the §2.6 closed-form backward. */
    static final class Ref {
        final int n;
        final int c;
        final int l;
        final int g;
        final boolean estimate;
        final double rate;
        final double[] rm;
        final double[] rv;
        // saved by the last forward for the backward
        double[] x1hat;
        double[] x2hat;
        double[] stage1Std; // per channel: sqrt(var + eps) the stage-1 normalization divided by
        double[] stage2Std; // per (n, g)
        boolean stage1Live;

        Ref(int n, int c, int l, int g, boolean estimate, double rate) {
            this.n = n;
            this.c = c;
            this.l = l;
            this.g = g;
            this.estimate = estimate;
            this.rate = rate;
            rm = new double[c];
            rv = new double[c];
            java.util.Arrays.fill(rv, 1.0);
        }

        int at(int ni, int ci, int li) {
            return (ni * c + ci) * l + li;
        }

        double[] forward(double[] x, double[] gamma, double[] beta, double[] a, double[] b, boolean training) {
            int m = n * l;
            double[] mean = new double[c];
            double[] var = new double[c];
            stage1Live = training && !estimate;
            if (training) {
                for (int ci = 0; ci < c; ci++) {
                    double s = 0;
                    for (int ni = 0; ni < n; ni++) {
                        for (int li = 0; li < l; li++) {
                            s += x[at(ni, ci, li)];
                        }
                    }
                    double mb = s / m;
                    double vb = 0;
                    double about = 0; // second moment about the OLD estimate (§2.2 step 2)
                    for (int ni = 0; ni < n; ni++) {
                        for (int li = 0; li < l; li++) {
                            vb += Math.pow(x[at(ni, ci, li)] - mb, 2) / m;
                            about += Math.pow(x[at(ni, ci, li)] - rm[ci], 2) / m;
                        }
                    }
                    if (estimate) {
                        rm[ci] = (1 - rate) * rm[ci] + rate * mb;
                        rv[ci] = (1 - rate) * rv[ci] + rate * about;
                        mean[ci] = rm[ci];
                        var[ci] = rv[ci];
                    } else {
                        mean[ci] = mb;
                        var[ci] = vb;
                        rm[ci] = 0.9 * rm[ci] + 0.1 * mb;
                        rv[ci] = 0.9 * rv[ci] + 0.1 * vb * m / (m - 1);
                    }
                }
            } else {
                mean = rm.clone();
                var = rv.clone();
            }
            stage1Std = new double[c];
            x1hat = new double[x.length];
            double[] x1 = new double[x.length];
            for (int ci = 0; ci < c; ci++) {
                stage1Std[ci] = Math.sqrt(var[ci] + EPS);
            }
            for (int i = 0; i < x.length; i++) {
                int ci = (i / l) % c;
                x1hat[i] = (x[i] - mean[ci]) / stage1Std[ci];
                x1[i] = gamma[ci] * x1hat[i] + beta[ci];
            }
            int cg = c / g;
            int size = cg * l;
            stage2Std = new double[n * g];
            x2hat = new double[x.length];
            double[] y = new double[x.length];
            for (int ni = 0; ni < n; ni++) {
                for (int gi = 0; gi < g; gi++) {
                    int base = (ni * c + gi * cg) * l; // a group's channels are contiguous
                    double mu = 0;
                    for (int k = 0; k < size; k++) {
                        mu += x1[base + k] / size;
                    }
                    double v = 0;
                    for (int k = 0; k < size; k++) {
                        v += Math.pow(x1[base + k] - mu, 2) / size;
                    }
                    stage2Std[ni * g + gi] = Math.sqrt(v + EPS);
                    for (int k = 0; k < size; k++) {
                        x2hat[base + k] = (x1[base + k] - mu) / stage2Std[ni * g + gi];
                        y[base + k] = a[gi] * x2hat[base + k] + b[gi];
                    }
                }
            }
            return y;
        }

        /** §2.6: returns {dx, dγ, dβ, da, db} for the last forward. */
        double[][] backward(double[] dy, double[] gamma, double[] a) {
            int cg = c / g;
            int size = cg * l;
            double[] da = new double[g];
            double[] db = new double[g];
            double[] g1 = new double[dy.length];
            for (int ni = 0; ni < n; ni++) {
                for (int gi = 0; gi < g; gi++) {
                    int base = (ni * c + gi * cg) * l;
                    double meanG2 = 0;
                    double meanG2X = 0;
                    for (int k = 0; k < size; k++) {
                        int i = base + k;
                        da[gi] += dy[i] * x2hat[i];
                        db[gi] += dy[i];
                        meanG2 += a[gi] * dy[i] / size;
                        meanG2X += a[gi] * dy[i] * x2hat[i] / size;
                    }
                    for (int k = 0; k < size; k++) {
                        int i = base + k;
                        g1[i] = (a[gi] * dy[i] - meanG2 - x2hat[i] * meanG2X) / stage2Std[ni * g + gi];
                    }
                }
            }
            double[] dgamma = new double[c];
            double[] dbeta = new double[c];
            double[] meanG1 = new double[c];
            double[] meanG1X = new double[c];
            int m = n * l;
            for (int i = 0; i < dy.length; i++) {
                int ci = (i / l) % c;
                dgamma[ci] += g1[i] * x1hat[i];
                dbeta[ci] += g1[i];
                meanG1[ci] += g1[i] / m;
                meanG1X[ci] += g1[i] * x1hat[i] / m;
            }
            double[] dx = new double[dy.length];
            for (int i = 0; i < dy.length; i++) {
                int ci = (i / l) % c;
                double k = gamma[ci] / stage1Std[ci];
                dx[i] = stage1Live ? k * (g1[i] - meanG1[ci] - x1hat[i] * meanG1X[ci]) : k * g1[i];
            }
            return new double[][] {dx, dgamma, dbeta, da, db};
        }
    }

    static double[] data(long seed, int count, double scale, double offset) {
        Rng rng = new Rng(seed);
        double[] v = new double[count];
        for (int i = 0; i < count; i++) {
            v[i] = offset + scale * rng.nextGaussian();
        }
        return v;
    }

    static void set(Tensor t, double[] values) {
        try (GradMode.Guard g = GradMode.noGrad();
             Tensor src = Tensor.fromDoubles(values, t.shape(), t.dtype(), t.device())) {
            t.backend().copy(src, t);
        }
    }

    /** (dims, groups, estimate); the BN flavour only where N·H·W ≥ 2. */
    static Stream<Arguments> grid() {
        Object[][] cases = {
            {new int[] {2, 6, 3, 3}, 3, false}, {new int[] {2, 6, 3, 3}, 3, true},
            {new int[] {1, 4, 2, 2}, 2, false}, {new int[] {1, 4, 2, 2}, 2, true},
            {new int[] {2, 6, 1, 1}, 6, false}, {new int[] {2, 6, 1, 1}, 3, true},
            {new int[] {1, 6, 1, 1}, 2, true}, {new int[] {3, 8, 2, 3}, 4, false},
            {new int[] {3, 8, 2, 3}, 1, true},
        };
        List<Arguments> out = new ArrayList<>();
        for (Object[] k : cases) {
            for (DType t : DType.values()) {
                out.add(Arguments.of(k[0], k[1], k[2], t));
            }
        }
        return out.stream();
    }

    // ------------------------------------------------------------ the module against the reference

    @ParameterizedTest(name = "{0} G={1} estimate={2} {3}")
    @MethodSource("grid")
    void trainingStepsThenEvalMatchTheSpec(int[] dims, int groups, boolean estimate, DType dtype) {
        int n = dims[0];
        int c = dims[1];
        int l = dims[2] * dims[3];
        double rate = 0.3;
        double atol = dtype == DType.F32 ? 5e-5 : 1e-10;
        double rtol = dtype == DType.F32 ? 5e-5 : 1e-10;
        try (Scope scope = Scope.open();
             BatchChannelNorm2d layer = BatchChannelNorm2d.builder(c).groups(groups).estimate(estimate).rate(rate)
                     .dtype(dtype).build()) {
            Module bn = layer.bn();
            double[] gamma = data(1, c, 0.3, 1);
            double[] beta = data(2, c, 0.3, 0);
            double[] a = data(3, groups, 0.3, 1);
            double[] b = data(4, groups, 0.3, 0);
            set(bn.parameter("weight"), gamma);
            set(bn.parameter("bias"), beta);
            set(layer.parameter("weight"), a);
            set(layer.parameter("bias"), b);
            // what the float32 layer actually holds
            gamma = bn.parameter("weight").toDoubleArray();
            beta = bn.parameter("bias").toDoubleArray();
            a = layer.parameter("weight").toDoubleArray();
            b = layer.parameter("bias").toDoubleArray();
            Ref ref = new Ref(n, c, l, groups, estimate, rate);
            for (int step = 0; step < 4; step++) {
                boolean training = step < 3;
                layer.train(training);
                Tensor x = Tensor.fromDoubles(data(10 + step, n * c * l, 1 + 0.5 * step, 0.3 * step - 0.4),
                        Shape.of(dims), dtype, Device.CPU).requiresGrad(true);
                double[] xv = x.toDoubleArray();
                String what = (training ? "train step " : "eval step ") + step;
                Tensor y = layer.forward(x);
                assertClose(what + " y", ref.forward(xv, gamma, beta, a, b, training), y, atol, rtol);
                assertClose(what + " running_mean", ref.rm, bn.buffer("running_mean"), atol, rtol);
                assertClose(what + " running_var", ref.rv, bn.buffer("running_var"), atol, rtol);
                Tensor dy = Tensor.fromDoubles(data(20 + step, n * c * l, 1, 0), Shape.of(dims), dtype, Device.CPU);
                layer.zeroGrad();
                y.backward(dy);
                double[][] gr = ref.backward(dy.toDoubleArray(), gamma, a);
                double ga = atol * 20;
                double gr2 = rtol * 20;
                assertClose(what + " dx", gr[0], x.grad(), ga, gr2);
                assertClose(what + " dgamma", gr[1], bn.parameter("weight").grad(), ga, gr2);
                assertClose(what + " dbeta", gr[2], bn.parameter("bias").grad(), ga, gr2);
                assertClose(what + " da", gr[3], layer.parameter("weight").grad(), ga, gr2);
                assertClose(what + " db", gr[4], layer.parameter("bias").grad(), ga, gr2);
            }
        }
    }

    // ------------------------------------------------------------ gradient checks (float64)

    static Stream<Arguments> gradcheckCases() {
        return Stream.of(Arguments.of(new int[] {2, 4, 2, 2}, 2), Arguments.of(new int[] {1, 6, 2, 1}, 3),
                Arguments.of(new int[] {3, 4, 1, 1}, 2));
    }

    /** BN flavour, train and eval: x, γ, β, a, b by finite differences. */
    @ParameterizedTest(name = "{0} G={1}")
    @MethodSource("gradcheckCases")
    void gradcheckBatchNormFlavour(int[] dims, int groups) {
        int c = dims[1];
        try (Scope scope = Scope.open()) {
            Tensor[] in = inputs(dims, groups);
            Tensor rm = Tensor.of(data(9, c, 0.3, 0), c);
            Tensor rv = Tensor.of(data(10, c, 0.2, 1.3), c);
            for (boolean training : new boolean[] {true, false}) {
                Gradcheck.Result r = Gradcheck.check(t -> BatchChannelNormOp.groupNormGroupAffine(
                        NormOps.batchNorm(t[0], rm, rv, t[1], t[2], training, 0.1, EPS), groups, t[3], t[4], EPS), in);
                assertTrue(r.passed(), (training ? "train: " : "eval: ") + r.message());
            }
        }
    }

    /**
     * EstBN flavour: the estimates are constants of the method, so finite differences run on the
     * normalization with the estimates frozen after this step's update, and the training step's
     * own gradient must equal that one.
     */
    @ParameterizedTest(name = "{0} G={1}")
    @MethodSource("gradcheckCases")
    void gradcheckEstimateFlavour(int[] dims, int groups) {
        int c = dims[1];
        try (Scope scope = Scope.open()) {
            Tensor[] in = inputs(dims, groups);
            Tensor em = Tensor.of(data(9, c, 0.3, 0), c);
            Tensor ev = Tensor.of(data(10, c, 0.2, 1.3), c);
            Tensor y = BatchChannelNormOp.groupNormGroupAffine(
                    BatchChannelNormOp.estimatedBatchNorm(in[0], in[1], in[2], em, ev, 0.25, true, EPS),
                    groups, in[3], in[4], EPS);
            Tensor dy = Tensor.randn(new Rng(5), y.shape(), DType.F64, Device.CPU);
            y.backward(dy);
            double[][] trainGrads = new double[5][];
            for (int i = 0; i < 5; i++) {
                trainGrads[i] = in[i].grad().toDoubleArray();
                in[i].zeroGrad();
            }
            // em, ev now hold the updated estimates; training=false uses them without moving them
            java.util.function.Function<Tensor[], Tensor> frozen = t -> BatchChannelNormOp.groupNormGroupAffine(
                    BatchChannelNormOp.estimatedBatchNorm(t[0], t[1], t[2], em, ev, 0.25, false, EPS),
                    groups, t[3], t[4], EPS);
            Gradcheck.Result r = Gradcheck.check(frozen, in);
            assertTrue(r.passed(), r.message());
            frozen.apply(in).backward(dy);
            for (int i = 0; i < 5; i++) {
                assertClose("input " + i, in[i].grad().toDoubleArray(), trainGrads[i], 1e-14, 1e-12);
            }
        }
    }

    static Tensor[] inputs(int[] dims, int groups) {
        int c = dims[1];
        return new Tensor[] {
            Tensor.fromDoubles(data(1, (int) Shape.of(dims).numel(), 1.5, 0.5), Shape.of(dims), DType.F64, Device.CPU)
                    .requiresGrad(true),
            Tensor.of(data(2, c, 0.3, 1), c).requiresGrad(true),
            Tensor.of(data(3, c, 0.3, 0), c).requiresGrad(true),
            Tensor.of(data(4, groups, 0.3, 1), groups).requiresGrad(true),
            Tensor.of(data(5, groups, 0.3, 0), groups).requiresGrad(true),
        };
    }

    // ------------------------------------------------------------ §2.7 edge cases and defaults

    /** C/G·H·W = 1: x2 ≡ 0, y = b_g, every gradient but db is 0, no error. */
    @Test
    void groupOfOneValue() {
        try (Scope scope = Scope.open();
             BatchChannelNorm2d layer = BatchChannelNorm2d.builder(6).groups(6).estimate(true).dtype(DType.F64)
                     .build()) {
            set(layer.parameter("bias"), new double[] {1, 2, 3, 4, 5, 6});
            set(layer.parameter("weight"), new double[] {2, 2, 2, 2, 2, 2});
            Tensor x = Tensor.of(data(1, 12, 1, 0), 2, 6, 1, 1).requiresGrad(true);
            Tensor y = layer.forward(x);
            assertClose("y = b", new double[] {1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6}, y, 0, 0);
            Tensor dy = Tensor.of(data(2, 12, 1, 0), 2, 6, 1, 1);
            y.backward(dy);
            assertClose("dx", new double[12], x.grad(), 0, 0);
            assertClose("da", new double[6], layer.parameter("weight").grad(), 0, 0);
            assertClose("dgamma", new double[6], layer.bn().parameter("weight").grad(), 0, 0);
            double[] d = dy.toDoubleArray();
            double[] db = new double[6];
            for (int i = 0; i < 12; i++) {
                db[i % 6] += d[i];
            }
            assertClose("db", db, layer.parameter("bias").grad(), 1e-15, 0);
        }
    }

    /** The first EstBN step from the initial estimates (0, 1) normalizes with (r·m, (1 − r) + r·s). */
    @Test
    void firstEstimateStepAndRates() {
        double[] xv = data(3, 2 * 2 * 3, 2, 1.5);
        for (double r : new double[] {0.1, 0.01, 0.0, 1.0}) {
            try (Scope scope = Scope.open();
                 EstBatchNorm2d est = new EstBatchNorm2d(2, EPS, r, DType.F64, Device.CPU)) {
                double[] y = est.forward(Tensor.of(xv, 2, 2, 3, 1)).toDoubleArray();
                for (int ci = 0; ci < 2; ci++) {
                    double m = 0;
                    double s = 0;
                    for (int ni = 0; ni < 2; ni++) {
                        for (int li = 0; li < 3; li++) {
                            double v = xv[(ni * 2 + ci) * 3 + li];
                            m += v / 6;
                            s += v * v / 6; // about the old estimate 0
                        }
                    }
                    double mu = r * m;
                    double var = (1 - r) + r * s;
                    assertEquals(mu, est.buffer("running_mean").toDoubleArray()[ci], 1e-15, "rate " + r);
                    assertEquals(var, est.buffer("running_var").toDoubleArray()[ci], 1e-14, "rate " + r);
                    int i = ci * 3;
                    assertEquals((xv[i] - mu) / Math.sqrt(var + EPS), y[i], 1e-14, "rate " + r);
                }
                assertEquals(r, est.rate(), 0.0);
            }
        }
    }

    @Test
    void estimateFlavourTakesOneValuePerChannelAndBnFlavourRejectsIt() {
        try (Scope scope = Scope.open();
             BatchChannelNorm2d est = BatchChannelNorm2d.builder(4).groups(2).estimate(true).dtype(DType.F64).build();
             BatchChannelNorm2d bn = BatchChannelNorm2d.builder(4).groups(2).dtype(DType.F64).build()) {
            Tensor x = Tensor.of(new double[] {1, 2, 3, 4}, 1, 4, 1, 1);
            double[] y = est.forward(x).toDoubleArray();
            for (double v : y) {
                assertTrue(Double.isFinite(v));
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.forward(x));
            assertTrue(e.getMessage().contains("BatchChannelNorm2d(4, groups=2")
                    && e.getMessage().contains("[1, 4, 1, 1]")
                    && e.getMessage().contains("more than 1 value per channel"), e.getMessage());
            bn.eval(); // running statistics: fine in evaluation
            assertEquals(4, bn.forward(x).numel());
        }
    }

    @Test
    void constantGroupStaysFinite() {
        try (Scope scope = Scope.open();
             BatchChannelNorm2d layer = BatchChannelNorm2d.builder(4).groups(2).estimate(true).rate(0)
                     .dtype(DType.F64).build()) {
            double[] xv = {5, 5, 5, 5, 1, 2, 3, 4}; // group 0 of sample 0 constant after the affine-free stage 1
            Tensor x = Tensor.of(xv, 1, 4, 2, 1).requiresGrad(true);
            Tensor y = layer.forward(x);
            double[] yv = y.toDoubleArray();
            for (int i = 0; i < 4; i++) {
                assertEquals(0.0, yv[i], 0.0);
            }
            y.backward(Tensor.of(data(1, 8, 1, 0), 1, 4, 2, 1));
            for (double v : x.grad().toDoubleArray()) {
                assertTrue(Double.isFinite(v));
            }
        }
    }

    @Test
    void defaultsAndState() {
        try (BatchChannelNorm2d d = new BatchChannelNorm2d(64)) {
            assertEquals(32, d.groups());
            assertTrue(!d.estimate());
            assertInstanceOf(BatchNorm2d.class, d.bn());
            assertEquals(DType.F32, d.parameter("weight").dtype());
            assertEquals(Shape.of(32), d.parameter("weight").shape());
            // 2C + 2G parameters
            long count = d.parameters().stream().mapToLong(Tensor::numel).sum();
            assertEquals(2 * 64 + 2 * 32, count);
            assertEquals(Set.of("bn.running_mean", "bn.running_var", "bn.num_batches_tracked"),
                    d.namedBuffers().keySet());
            assertEquals(0.1, ((BatchNorm2d) d.bn()).momentum(), 0.0);
        }
        try (BatchChannelNorm2d e = BatchChannelNorm2d.builder(64).estimate(true).build()) {
            assertInstanceOf(EstBatchNorm2d.class, e.bn());
            assertEquals(0.1, ((EstBatchNorm2d) e.bn()).rate(), 1e-8);
            assertEquals(Set.of("bn.running_mean", "bn.running_var", "bn.estbn_moving_speed"),
                    e.namedBuffers().keySet());
            assertEquals(Set.of("weight", "bias", "bn.weight", "bn.bias"), e.namedParameters().keySet());
        }
    }

    /** Saved state restores both flavours exactly, and EstBN's rate travels with it. */
    @Test
    void stateRoundTrip() {
        for (boolean estimate : new boolean[] {false, true}) {
            try (Scope scope = Scope.open();
                 BatchChannelNorm2d a = BatchChannelNorm2d.builder(4).groups(2).estimate(estimate).rate(0.4)
                         .dtype(DType.F64).build();
                 BatchChannelNorm2d b = BatchChannelNorm2d.builder(4).groups(2).estimate(estimate)
                         .dtype(DType.F64).build()) {
                set(a.parameter("weight"), new double[] {0.5, 2});
                for (int step = 0; step < 2; step++) {
                    a.forward(Tensor.of(data(step, 32, 2, 1), 2, 4, 2, 2));
                }
                b.loadStateDict(a.stateDict());
                a.eval();
                b.eval();
                Tensor x = Tensor.of(data(7, 32, 1, 0), 2, 4, 2, 2);
                assertClose("estimate=" + estimate, a.forward(x).toDoubleArray(), b.forward(x), 0, 0);
                if (estimate) {
                    assertEquals(0.4, ((EstBatchNorm2d) b.bn()).rate(), 0.0);
                    java.util.Map<String, Tensor> bad = new java.util.LinkedHashMap<>(a.stateDict());
                    bad.put("bn.estbn_moving_speed", Tensor.of(new double[] {1.5}, 1));
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> b.loadStateDict(bad));
                    assertTrue(e.getMessage().contains("estbn_moving_speed = 1.5"), e.getMessage());
                }
            }
        }
    }

    @Test
    void badInputIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BatchChannelNorm2d(48));
        assertTrue(e.getMessage().contains("BatchChannelNorm2d(48, groups=32")
                && e.getMessage().contains("not divisible"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BatchChannelNorm2d.builder(4).groups(2).estimate(true).rate(1.5).build());
        assertTrue(e.getMessage().contains("rate") && e.getMessage().contains("1.5"), e.getMessage());
        try (Scope scope = Scope.open(); BatchChannelNorm2d layer = BatchChannelNorm2d.builder(4).groups(2).build()) {
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(Tensor.zeros(DType.F32, 2, 4, 3)));
            assertTrue(e.getMessage().contains("rank 4") && e.getMessage().contains("[2, 4, 3]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(Tensor.zeros(DType.F32, 2, 6, 3, 3)));
            assertTrue(e.getMessage().contains("[2, 6, 3, 3]") && e.getMessage().contains("expected 4"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(Tensor.zeros(DType.F64, 2, 4, 3, 3)));
            assertTrue(e.getMessage().contains("F64") && e.getMessage().contains("F32"), e.getMessage());
            Tensor x = Tensor.zeros(DType.F32, 2, 4, 3, 3);
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchChannelNormOp.groupNormGroupAffine(x, 2, Tensor.zeros(DType.F32, 4), null, EPS));
            assertTrue(e.getMessage().contains("weight") && e.getMessage().contains("[2]")
                    && e.getMessage().contains("[4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchChannelNormOp.groupNormGroupAffine(x, 3, null, null, EPS));
            assertTrue(e.getMessage().contains("divisible"), e.getMessage());
        }
    }
}
