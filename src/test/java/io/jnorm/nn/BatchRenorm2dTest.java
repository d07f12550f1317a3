package io.jnorm.nn;

import static io.jnorm.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.norm.BatchRenormOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Batch Renorm against Algorithm 1 of Ioffe 2017 as spec-brn-ubn-baselines.md §2.1 writes it. */
class BatchRenorm2dTest {
    static final double EPS = 1e-5;

    // ------------------------------------------------------------ the reference, from the spec

    /** Algorithm 1 in float64: moving μ and σ, one call per training step. */
    static final class Ref {
        final int n;
        final int c;
        final int l;
        final double[] mu;
        final double[] sigma;
        double[] r;
        double[] d;
        double[] muB;
        double[] sigmaB;

        Ref(int n, int c, int l) {
            this.n = n;
            this.c = c;
            this.l = l;
            mu = new double[c];
            sigma = new double[c];
            java.util.Arrays.fill(sigma, 1.0);
        }

        int idx(int ni, int ci, int li) {
            return (ni * c + ci) * l + li;
        }

        double[] train(double[] x, double[] gamma, double[] beta, double rmax, double dmax, double momentum) {
            int m = n * l;
            muB = new double[c];
            sigmaB = new double[c];
            r = new double[c];
            d = new double[c];
            double[] y = new double[x.length];
            for (int ci = 0; ci < c; ci++) {
                double s = 0;
                for (int ni = 0; ni < n; ni++) {
                    for (int li = 0; li < l; li++) {
                        s += x[idx(ni, ci, li)];
                    }
                }
                muB[ci] = s / m;
                double v = 0;
                for (int ni = 0; ni < n; ni++) {
                    for (int li = 0; li < l; li++) {
                        v += Math.pow(x[idx(ni, ci, li)] - muB[ci], 2);
                    }
                }
                sigmaB[ci] = Math.sqrt(EPS + v / m);
                r[ci] = Math.min(Math.max(sigmaB[ci] / sigma[ci], 1 / rmax), rmax);
                d[ci] = Math.min(Math.max((muB[ci] - mu[ci]) / sigma[ci], -dmax), dmax);
                for (int ni = 0; ni < n; ni++) {
                    for (int li = 0; li < l; li++) {
                        int i = idx(ni, ci, li);
                        double xhat = (x[i] - muB[ci]) / sigmaB[ci] * r[ci] + d[ci];
                        y[i] = gamma[ci] * xhat + beta[ci];
                    }
                }
                mu[ci] += momentum * (muB[ci] - mu[ci]);
                sigma[ci] += momentum * (sigmaB[ci] - sigma[ci]);
            }
            return y;
        }

        /**
         * The paper's backward through ∂ℓ/∂σ_B and ∂ℓ/∂μ_B (r, d fixed) for the last train call;
         * returns {dx, dγ, dβ}.
         */
        double[][] trainBackward(double[] x, double[] dy, double[] gamma) {
            int m = n * l;
            double[] dx = new double[x.length];
            double[] dg = new double[c];
            double[] db = new double[c];
            for (int ci = 0; ci < c; ci++) {
                double dSigma = 0;
                double dMu = 0;
                for (int ni = 0; ni < n; ni++) {
                    for (int li = 0; li < l; li++) {
                        int i = idx(ni, ci, li);
                        double dxhat = dy[i] * gamma[ci];
                        dSigma += dxhat * r[ci] * (x[i] - muB[ci]) * (-1 / (sigmaB[ci] * sigmaB[ci]));
                        dMu += dxhat * r[ci] * (-1 / sigmaB[ci]);
                        dg[ci] += dy[i] * ((x[i] - muB[ci]) / sigmaB[ci] * r[ci] + d[ci]);
                        db[ci] += dy[i];
                    }
                }
                for (int ni = 0; ni < n; ni++) {
                    for (int li = 0; li < l; li++) {
                        int i = idx(ni, ci, li);
                        dx[i] = dy[i] * gamma[ci] * r[ci] / sigmaB[ci]
                                + dSigma * (x[i] - muB[ci]) / (m * sigmaB[ci]) + dMu / m;
                    }
                }
            }
            return new double[][] {dx, dg, db};
        }

        double[] eval(double[] x, double[] gamma, double[] beta) {
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                int ci = (i / l) % c;
                y[i] = gamma[ci] * (x[i] - mu[ci]) / sigma[ci] + beta[ci];
            }
            return y;
        }

        double[][] evalBackward(double[] x, double[] dy, double[] gamma) {
            double[] dx = new double[x.length];
            double[] dg = new double[c];
            double[] db = new double[c];
            for (int i = 0; i < x.length; i++) {
                int ci = (i / l) % c;
                dx[i] = dy[i] * gamma[ci] / sigma[ci];
                dg[ci] += dy[i] * (x[i] - mu[ci]) / sigma[ci];
                db[ci] += dy[i];
            }
            return new double[][] {dx, dg, db};
        }
    }

    static double[] data(long seed, int numel, double scale, double offset) {
        Rng rng = new Rng(seed);
        double[] v = new double[numel];
        for (int i = 0; i < numel; i++) {
            v[i] = offset + scale * rng.nextGaussian();
        }
        return v;
    }

    static Stream<Arguments> grid() {
        int[][] shapes = {{2, 3, 4, 4}, {1, 3, 4, 4}, {2, 3, 1, 1}, {1, 3, 1, 1}, {4, 2, 3, 5}};
        List<Arguments> out = new ArrayList<>();
        for (int[] s : shapes) {
            for (DType t : DType.values()) {
                out.add(Arguments.of(s, t));
            }
        }
        return out.stream();
    }

    // ------------------------------------------------------------ the module against the reference

    /**
     * Five training steps whose batches drift in scale and offset (so r and d clip on some
     * channels and not others), checking y, dx, dγ, dβ and the moving statistics each step, then
     * evaluation forward and backward.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("grid")
    void trainingStepsThenEvalMatchAlgorithm1(int[] dims, DType dtype) {
        int n = dims[0];
        int c = dims[1];
        int l = dims[2] * dims[3];
        double momentum = 0.3; // large, so a few steps move the averages visibly
        RenormSchedule sched = RenormSchedule.fixed(1.5, 0.5);
        double atol = dtype == DType.F32 ? 2e-5 : 1e-11;
        double rtol = dtype == DType.F32 ? 2e-5 : 1e-10;
        try (Scope scope = Scope.open();
             BatchRenorm2d layer = BatchRenorm2d.builder(c).momentum(momentum).schedule(sched).dtype(dtype).build()) {
            Ref ref = new Ref(n, c, l);
            Tensor gamma = layer.parameter("weight");
            Tensor beta = layer.parameter("bias");
            try (var g = io.jnorm.autograd.GradMode.noGrad()) {
                // non-trivial affine, written into the parameters' memory through a copy
                gamma.backend().copy(Tensor.fromDoubles(data(1, c, 0.3, 1.0), Shape.of(c), dtype, Device.CPU), gamma);
                beta.backend().copy(Tensor.fromDoubles(data(2, c, 0.3, 0.0), Shape.of(c), dtype, Device.CPU), beta);
            }
            double[] gv = gamma.toDoubleArray();
            double[] bv = beta.toDoubleArray();
            for (int step = 0; step < 5; step++) {
                Tensor x = Tensor.fromDoubles(data(10 + step, n * c * l, 0.5 + 0.6 * step, 0.4 * step - 0.5),
                        Shape.of(dims), dtype, Device.CPU).requiresGrad(true);
                double[] xv = x.toDoubleArray();
                Tensor y = layer.forward(x);
                double[] yRef = ref.train(xv, gv, bv, 1.5, 0.5, momentum);
                assertClose("step " + step + " y", yRef, y, atol, rtol);
                assertClose("step " + step + " running_mean", ref.mu, layer.buffer("running_mean"), atol, rtol);
                assertClose("step " + step + " running_std", ref.sigma, layer.buffer("running_std"), atol, rtol);
                assertEquals(step + 1, layer.step());
                Tensor dy = Tensor.fromDoubles(data(30 + step, n * c * l, 1, 0), Shape.of(dims), dtype, Device.CPU);
                layer.zeroGrad();
                y.backward(dy);
                double[][] gRef = ref.trainBackward(xv, dy.toDoubleArray(), gv);
                assertClose("step " + step + " dx", gRef[0], x.grad(), atol * 10, rtol * 10);
                assertClose("step " + step + " dgamma", gRef[1], gamma.grad(), atol * 10, rtol * 10);
                assertClose("step " + step + " dbeta", gRef[2], beta.grad(), atol * 10, rtol * 10);
            }
            layer.eval();
            Tensor x = Tensor.fromDoubles(data(99, n * c * l, 2, 1), Shape.of(dims), dtype, Device.CPU)
                    .requiresGrad(true);
            double[] xv = x.toDoubleArray();
            Tensor y = layer.forward(x);
            assertClose("eval y", ref.eval(xv, gv, bv), y, atol, rtol);
            assertEquals(5, layer.step(), "evaluation does not advance the schedule");
            assertClose("eval leaves running_mean", ref.mu, layer.buffer("running_mean"), atol, rtol);
            Tensor dy = Tensor.fromDoubles(data(98, n * c * l, 1, 0), Shape.of(dims), dtype, Device.CPU);
            layer.zeroGrad();
            y.backward(dy);
            double[][] gRef = ref.evalBackward(xv, dy.toDoubleArray(), gv);
            assertClose("eval dx", gRef[0], x.grad(), atol, rtol);
            assertClose("eval dgamma", gRef[1], gamma.grad(), atol * 10, rtol * 10);
            assertClose("eval dbeta", gRef[2], beta.grad(), atol * 10, rtol * 10);
        }
    }

    /** Finite differences of x, γ, β with r and d frozen at the values the first step computed. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("gradcheckShapes")
    void gradcheckTrainWithFrozenCorrectionAndEval(int[] dims) {
        int c = dims[1];
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.fromDoubles(data(3, (int) Shape.of(dims).numel(), 1.7, 0.8), Shape.of(dims), DType.F64,
                    Device.CPU).requiresGrad(true);
            Tensor gamma = Tensor.of(data(4, c, 0.3, 1), c).requiresGrad(true);
            Tensor beta = Tensor.of(data(5, c, 0.3, 0), c).requiresGrad(true);
            Tensor mm = Tensor.of(data(6, c, 0.2, 0), c);
            Tensor ms = Tensor.of(data(7, c, 0.1, 1.2), c);
            // rmax 1.3 / dmax 0.4 clip some channels: the frozen values then include clipped ones
            BatchRenormOp.Step s = BatchRenormOp.train(x, gamma, beta, mm, ms, 1.3, 0.4, 0.1, EPS);
            Tensor r = s.r();
            Tensor d = s.d();
            Gradcheck.Result res = Gradcheck.check(
                    in -> BatchRenormOp.trainWithCorrection(in[0], in[1], in[2], r, d, EPS), x, gamma, beta);
            assertTrue(res.passed(), "train: " + res.message());
            // the training step's own gradient is the frozen-correction gradient
            Tensor dy = Tensor.randn(new Rng(8), x.shape(), DType.F64, Device.CPU);
            s.y().backward(dy);
            double[] dxStep = x.grad().toDoubleArray();
            double[] dgStep = gamma.grad().toDoubleArray();
            x.zeroGrad();
            gamma.zeroGrad();
            beta.zeroGrad();
            BatchRenormOp.trainWithCorrection(x, gamma, beta, r, d, EPS).backward(dy);
            assertClose("train dx = frozen dx", x.grad().toDoubleArray(), dxStep, 1e-14, 1e-12);
            assertClose("train dgamma = frozen dgamma", gamma.grad().toDoubleArray(), dgStep, 1e-14, 1e-12);
            x.zeroGrad();
            gamma.zeroGrad();
            beta.zeroGrad();
            res = Gradcheck.check(in -> BatchRenormOp.trainWithCorrection(in[0], null, null, r, d, EPS), x);
            assertTrue(res.passed(), "train without affine: " + res.message());
            res = Gradcheck.check(in -> BatchRenormOp.eval(in[0], in[1], in[2], mm, ms, EPS), x, gamma, beta);
            assertTrue(res.passed(), "eval: " + res.message());
        }
    }

    static Stream<int[]> gradcheckShapes() {
        return Stream.of(new int[] {2, 3, 2, 3}, new int[] {1, 2, 3, 3}, new int[] {3, 2, 1, 1});
    }

    // ------------------------------------------------------------ paper semantics and edge cases

    /** r_max = 1, d_max = 0 (the paper schedule's first 5000 steps) is batch norm in training. */
    @Test
    void paperScheduleStartIsBatchNorm() {
        try (Scope scope = Scope.open(); BatchRenorm2d layer = BatchRenorm2d.builder(3).dtype(DType.F64).build()) {
            assertEquals(RenormSchedule.paper(), layer.schedule());
            for (int step = 0; step < 3; step++) {
                double[] xv = data(50 + step, 2 * 3 * 6, 3, 2); // far from the moving stats: r, d would clip
                Tensor y = layer.forward(Tensor.of(xv, 2, 3, 2, 3));
                double[] bn = new double[xv.length];
                for (int ci = 0; ci < 3; ci++) {
                    double mean = 0;
                    double var = 0;
                    for (int ni = 0; ni < 2; ni++) {
                        for (int li = 0; li < 6; li++) {
                            mean += xv[(ni * 3 + ci) * 6 + li] / 12;
                        }
                    }
                    for (int ni = 0; ni < 2; ni++) {
                        for (int li = 0; li < 6; li++) {
                            var += Math.pow(xv[(ni * 3 + ci) * 6 + li] - mean, 2) / 12;
                        }
                    }
                    for (int ni = 0; ni < 2; ni++) {
                        for (int li = 0; li < 6; li++) {
                            int i = (ni * 3 + ci) * 6 + li;
                            bn[i] = (xv[i] - mean) / Math.sqrt(var + EPS);
                        }
                    }
                }
                assertClose("BN at step " + step, bn, y, 1e-12, 1e-11);
            }
        }
    }

    @Test
    void clippingSaturatesAtTheBounds() {
        try (Scope scope = Scope.open()) {
            // channel 0: σ_B ≈ 4 ≫ σ = 1 and μ_B ≈ 3 ≫ μ = 0 (both clip high);
            // channel 1: σ_B ≈ 0.1 and μ_B ≈ −3 (both clip low); channel 2: inside both ranges
            int n = 4;
            int l = 9;
            double[] xv = new double[n * 3 * l];
            Rng rng = new Rng(12);
            double[][] sd = {{4, 3}, {0.1, -3}, {1.1, 0.1}};
            for (int ni = 0; ni < n; ni++) {
                for (int ci = 0; ci < 3; ci++) {
                    for (int li = 0; li < l; li++) {
                        xv[(ni * 3 + ci) * l + li] = sd[ci][1] + sd[ci][0] * rng.nextGaussian();
                    }
                }
            }
            Tensor x = Tensor.of(xv, n, 3, 3, 3);
            Tensor mm = Tensor.zeros(DType.F64, 3);
            Tensor ms = Tensor.ones(DType.F64, 3);
            BatchRenormOp.Step s = BatchRenormOp.train(x, null, null, mm, ms, 2, 1, 0.01, EPS);
            double[] r = s.r().toDoubleArray();
            double[] d = s.d().toDoubleArray();
            assertEquals(2.0, r[0], 0.0);
            assertEquals(1.0, d[0], 0.0);
            assertEquals(0.5, r[1], 0.0);
            assertEquals(-1.0, d[1], 0.0);
            assertTrue(r[2] > 0.5 && r[2] < 2 && Math.abs(d[2]) < 1, r[2] + " " + d[2]);
            Ref ref = new Ref(n, 3, l);
            double[] yRef = ref.train(xv, new double[] {1, 1, 1}, new double[3], 2, 1, 0.01);
            assertClose("clipped y", yRef, s.y(), 1e-12, 1e-11);
            assertClose("r", ref.r, r, 0, 1e-14);
        }
    }

    /** N·H·W = 1: σ_B = sqrt(eps), y = γ·d + β, dx = 0, the averages still move. */
    @Test
    void oneValuePerChannel() {
        try (Scope scope = Scope.open();
             BatchRenorm2d layer = BatchRenorm2d.builder(2).schedule(RenormSchedule.fixed(3, 5)).momentum(0.5)
                     .dtype(DType.F64).build()) {
            Tensor x = Tensor.of(new double[] {0.7, -0.4}, 1, 2, 1, 1).requiresGrad(true);
            Tensor y = layer.forward(x);
            // d = clip((x − 0)/1, −5, 5) = x; γ = 1, β = 0
            assertClose("y = γd + β", new double[] {0.7, -0.4}, y, 1e-15, 0);
            y.backward(Tensor.of(new double[] {1, 2}, 1, 2, 1, 1));
            assertClose("dx = 0", new double[2], x.grad(), 0, 0);
            assertClose("dβ", new double[] {1, 2}, layer.parameter("bias").grad(), 0, 0);
            assertClose("dγ = dy·d", new double[] {0.7, -0.8}, layer.parameter("weight").grad(), 1e-15, 0);
            double s = 0.5 + 0.5 * Math.sqrt(EPS);
            assertClose("σ moves toward sqrt(eps)", new double[] {s, s}, layer.buffer("running_std"), 1e-15, 1e-15);
            assertClose("μ moves toward x", new double[] {0.35, -0.2}, layer.buffer("running_mean"), 1e-15, 1e-15);
        }
    }

    /** A constant channel: x̄ = 0, y = γ·d + β, dx = γ·r·(dy − mean dy)/sqrt(eps) (spec §4). */
    @Test
    void constantChannel() {
        try (Scope scope = Scope.open()) {
            double[] xv = {2, 2, 2, 1, -1, 3, 2, 2, 2, 0, 2, 5}; // channel 0 constant
            Tensor x = Tensor.of(xv, 2, 2, 3, 1).requiresGrad(true);
            Tensor gamma = Tensor.of(new double[] {1.5, 0.5}, 2).requiresGrad(true);
            Tensor beta = Tensor.of(new double[] {0.25, 0}, 2).requiresGrad(true);
            Tensor mm = Tensor.of(new double[] {1.0, 0}, 2);
            Tensor ms = Tensor.of(new double[] {0.5, 1}, 2);
            BatchRenormOp.Step s = BatchRenormOp.train(x, gamma, beta, mm, ms, 3, 5, 0.01, EPS);
            double r0 = Math.max(Math.sqrt(EPS) / 0.5, 1 / 3.0); // σ_B = sqrt(eps): r clips at 1/rmax
            double d0 = (2 - 1.0) / 0.5;
            assertEquals(r0, s.r().toDoubleArray()[0], 1e-15);
            assertEquals(d0, s.d().toDoubleArray()[0], 1e-15);
            double[] y = s.y().toDoubleArray();
            for (int i : new int[] {0, 1, 2, 6, 7, 8}) {
                assertEquals(1.5 * d0 + 0.25, y[i], 1e-12, "y at " + i);
            }
            double[] dy = {1, 2, 3, 4, 5, 6, 7, 8, 9, 1, 1, 1};
            s.y().backward(Tensor.of(dy, 2, 2, 3, 1));
            double meanDy = (1 + 2 + 3 + 7 + 8 + 9) / 6.0;
            double[] dx = x.grad().toDoubleArray();
            int[] ch0 = {0, 1, 2, 6, 7, 8};
            double[] dyCh0 = {1, 2, 3, 7, 8, 9};
            for (int k = 0; k < 6; k++) {
                double expected = 1.5 * r0 * (dyCh0[k] - meanDy) / Math.sqrt(EPS);
                assertEquals(expected, dx[ch0[k]], 1e-9 * Math.abs(expected) + 1e-12, "dx at " + ch0[k]);
            }
        }
    }

    /** A moving σ below sqrt(eps) (only reachable by loading state) is floored at sqrt(eps), as in TensorFlow. */
    @Test
    void movingStdIsFlooredAtSqrtEps() {
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.of(new double[] {0.001, -0.002, 0.003, 0.0005}, 2, 1, 2, 1);
            Tensor mm = Tensor.of(new double[] {0.0}, 1);
            Tensor ms = Tensor.of(new double[] {0.0}, 1);
            double floor = Math.sqrt(EPS);
            double mean = (0.001 - 0.002 + 0.003 + 0.0005) / 4;
            double var = 0;
            for (double v : new double[] {0.001, -0.002, 0.003, 0.0005}) {
                var += (v - mean) * (v - mean) / 4;
            }
            BatchRenormOp.Step s = BatchRenormOp.train(x, null, null, mm, ms, 1000, 1000, 0.0, EPS);
            assertEquals(Math.sqrt(var + EPS) / floor, s.r().item(), 1e-12);
            assertEquals(mean / floor, s.d().item(), 1e-12);
            double[] y = BatchRenormOp.eval(x, null, null, mm, ms, EPS).toDoubleArray();
            assertEquals(0.001 / floor, y[0], 1e-12);
            for (double v : y) {
                assertTrue(Double.isFinite(v));
            }
        }
    }

    @Test
    void nanPoisonsOnlyItsChannel() {
        try (Scope scope = Scope.open(); BatchRenorm2d layer = BatchRenorm2d.builder(2).dtype(DType.F64).build()) {
            Tensor x = Tensor.of(new double[] {1, Double.NaN, 2, 3, 4, 5, 6, 7}, 2, 2, 2, 1);
            double[] y = layer.forward(x).toDoubleArray();
            assertTrue(Double.isNaN(y[0]) && Double.isNaN(y[5]), "channel 0 is NaN");
            assertTrue(Double.isFinite(y[2]) && Double.isFinite(y[7]), "channel 1 is finite");
            assertTrue(Double.isNaN(layer.buffer("running_std").toDoubleArray()[0]));
            assertTrue(Double.isFinite(layer.buffer("running_std").toDoubleArray()[1]));
        }
    }

    // ------------------------------------------------------------ schedule and state

    @Test
    void paperScheduleRampsLinearly() {
        RenormSchedule p = RenormSchedule.paper();
        assertEquals(1.0, p.rmax(0), 0.0);
        assertEquals(0.0, p.dmax(5_000), 0.0);
        assertEquals(1.0, p.rmax(5_000), 0.0);
        assertEquals(1 + 2.0 * 17_500 / 35_000, p.rmax(22_500), 1e-15);
        assertEquals(5.0 * 17_500 / 20_000, p.dmax(22_500), 1e-15);
        assertEquals(5.0, p.dmax(25_000), 0.0);
        assertEquals(1 + 2.0 * 20_000 / 35_000, p.rmax(25_000), 1e-15);
        assertEquals(3.0, p.rmax(40_000), 0.0);
        assertEquals(3.0, p.rmax(1_000_000), 0.0);
        RenormSchedule f = RenormSchedule.fixed(2.5, 0.7);
        assertEquals(2.5, f.rmax(0), 0.0);
        assertEquals(0.7, f.dmax(123_456), 0.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RenormSchedule.fixed(0.5, 0));
        assertTrue(e.getMessage().contains("r_max") && e.getMessage().contains("0.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new RenormSchedule(1, 3, 10, 5, 0, 5, 0, 1));
        assertTrue(e.getMessage().contains("10..5"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RenormSchedule.fixed(2, -1));
    }

    /** The layer's own counter drives the ramp, and a restored counter resumes it. */
    @Test
    void stepCounterDrivesTheScheduleAndIsState() {
        // r_max 1 → 2 and d_max 0 → 1 over steps 0..2: three steps see three different limits
        RenormSchedule fast = new RenormSchedule(1, 2, 0, 2, 0, 1, 0, 2);
        try (Scope scope = Scope.open();
             BatchRenorm2d layer = BatchRenorm2d.builder(2).schedule(fast).momentum(0.2).dtype(DType.F64).build()) {
            assertTrue(layer.namedBuffers().keySet().containsAll(List.of("running_mean", "running_std", "num_steps")));
            Ref ref = new Ref(2, 2, 4);
            double[] one = {1, 1};
            for (int step = 0; step < 4; step++) {
                double[] xv = data(70 + step, 16, 3, 2);
                Tensor y = layer.forward(Tensor.of(xv, 2, 2, 2, 2));
                double[] yRef = ref.train(xv, one, new double[2], fast.rmax(step), fast.dmax(step), 0.2);
                assertClose("step " + step, yRef, y, 1e-12, 1e-11);
            }
            assertEquals(4.0, layer.buffer("num_steps").item(), 0.0);
            // a layer whose state is set to this one's continues from step 4, not from 0
            assertEquals(Set.of("num_steps"), layer.integerStateKeys());
            try (BatchRenorm2d copy = BatchRenorm2d.builder(2).schedule(fast).momentum(0.2).dtype(DType.F64).build()) {
                copy.loadStateDict(layer.stateDict());
                assertEquals(4, copy.step());
                double[] xv = data(90, 16, 3, 2);
                double[] yRef = ref.train(xv, one, new double[2], 2, 1, 0.2);
                assertClose("resumed", yRef, copy.forward(Tensor.of(xv, 2, 2, 2, 2)), 1e-12, 1e-11);
                assertEquals(5, copy.step());
            }
        }
    }

    @Test
    void loadingRejectsANegativeStdOrStepCount() {
        try (Scope scope = Scope.open(); BatchRenorm2d layer = BatchRenorm2d.builder(2).dtype(DType.F64).build()) {
            Map<String, Tensor> state = new java.util.LinkedHashMap<>(layer.stateDict());
            state.put("running_std", Tensor.of(new double[] {1, -0.5}, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> layer.loadStateDict(state));
            assertTrue(e.getMessage().contains("running_std[1] = -0.5"), e.getMessage());
            state.put("running_std", Tensor.of(new double[] {1, 0.5}, 2));
            state.put("num_steps", Tensor.scalar(-3, DType.F64, Device.CPU));
            e = assertThrows(IllegalArgumentException.class, () -> layer.loadStateDict(state));
            assertTrue(e.getMessage().contains("num_steps") && e.getMessage().contains("-3"), e.getMessage());
            assertEquals(0, layer.step(), "a rejected load changes nothing");
        }
    }

    @Test
    void affineOffHasNoParameters() {
        try (Scope scope = Scope.open();
             BatchRenorm2d layer = BatchRenorm2d.builder(3).affine(false).dtype(DType.F64).build()) {
            assertTrue(layer.namedParameters().isEmpty());
            assertNull(layer.parameter("weight"));
            Tensor x = Tensor.of(data(1, 24, 1, 0), 2, 3, 2, 2).requiresGrad(true);
            layer.forward(x).backward(Tensor.of(data(2, 24, 1, 0), 2, 3, 2, 2));
            assertTrue(x.grad() != null);
        }
    }

    @Test
    void badInputIsNamed() {
        try (Scope scope = Scope.open(); BatchRenorm2d layer = new BatchRenorm2d(3)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> layer.forward(Tensor.zeros(DType.F32, 2, 4, 3, 3)));
            assertTrue(e.getMessage().contains("BatchRenorm2d(3") && e.getMessage().contains("[2, 4, 3, 3]")
                    && e.getMessage().contains("expected 3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(Tensor.zeros(DType.F32, 2, 3, 9)));
            assertTrue(e.getMessage().contains("rank 4") && e.getMessage().contains("[2, 3, 9]"), e.getMessage());
            Tensor x = Tensor.zeros(DType.F64, 2, 3, 2, 2);
            e = assertThrows(IllegalArgumentException.class, () -> layer.forward(x));
            assertTrue(e.getMessage().contains("BatchRenorm2d(3") && e.getMessage().contains("F64")
                    && e.getMessage().contains("the layer is F32"), e.getMessage());
            Tensor c3 = Tensor.zeros(DType.F64, 3);
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchRenormOp.train(x, Tensor.zeros(DType.F64, 4), null, c3, c3, 2, 1, 0.1, EPS));
            assertTrue(e.getMessage().contains("gamma") && e.getMessage().contains("[4]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchRenormOp.train(x, null, null, c3, c3, 0.9, 1, 0.1, EPS));
            assertTrue(e.getMessage().contains("rmax") && e.getMessage().contains("0.9"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchRenormOp.train(x, null, null, c3, c3, 2, 1, 1.5, EPS));
            assertTrue(e.getMessage().contains("momentum"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BatchRenormOp.eval(x, null, null, c3, Tensor.zeros(DType.F32, 3), EPS));
            assertTrue(e.getMessage().contains("dtype"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> BatchRenorm2d.builder(3).eps(0).build());
            assertTrue(e.getMessage().contains("eps"), e.getMessage());
        }
    }
}
