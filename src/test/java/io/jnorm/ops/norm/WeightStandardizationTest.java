package io.jnorm.ops.norm;

import static io.jnorm.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import io.jnorm.testing.Close;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Weight standardization against references written from spec-ws-bcn-sn.md §1.2 and §1.4. */
class WeightStandardizationTest {

    /** (name, unbiased, epsIn, epsOut): the presets, the TF snippet and the 1e-12 fork form. */
    record Variant(String name, boolean unbiased, double epsIn, double epsOut) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final List<Variant> VARIANTS = List.of(
            new Variant("official", true, 0, 1e-5),
            new Variant("bcn_repo", true, 1e-5, 0),
            new Variant("biased", false, 1e-5, 0),
            new Variant("tf_snippet", false, 0, 1e-5),
            new Variant("fork_1e12", true, 1e-12, 1e-5));

    static final int[][] SHAPES = {{4, 3, 3, 3}, {2, 1, 3, 3}, {6, 2, 1, 1}, {3, 5, 1, 1}, {5, 7}};

    static Stream<Arguments> grid() {
        List<Arguments> out = new ArrayList<>();
        for (Variant v : VARIANTS) {
            for (int[] s : SHAPES) {
                for (DType t : DType.values()) {
                    out.add(Arguments.of(v, s, t));
                }
            }
        }
        return out.stream();
    }

    // ------------------------------------------------------------ references from the spec

    /** Ŵ = (W − μ) / (sqrt(Σ(W − μ)²/M + epsIn) + epsOut), row by row. */
    static double[] refForward(double[] w, int rows, Variant v) {
        int n = w.length / rows;
        double[] out = new double[w.length];
        for (int o = 0; o < rows; o++) {
            double mu = 0;
            for (int j = 0; j < n; j++) {
                mu += w[o * n + j] / n;
            }
            double ss = 0;
            for (int j = 0; j < n; j++) {
                ss += (w[o * n + j] - mu) * (w[o * n + j] - mu);
            }
            double var = ss / (v.unbiased ? n - 1 : n);
            double denom = Math.sqrt(var + v.epsIn) + v.epsOut;
            for (int j = 0; j < n; j++) {
                out[o * n + j] = (w[o * n + j] - mu) / denom;
            }
        }
        return out;
    }

    /**
     * dL/dW through the Jacobian of §1.4's derivation, not its closed form:
     * ∂Ŵ_i/∂d_j = δ_ij/D − d_i d_j/(M r D²), then the mean is projected out (d = W − mean W).
     */
    static double[] refBackward(double[] w, double[] g, int rows, Variant v) {
        int n = w.length / rows;
        double m = v.unbiased ? n - 1 : n;
        double[] out = new double[w.length];
        for (int o = 0; o < rows; o++) {
            double mu = 0;
            for (int j = 0; j < n; j++) {
                mu += w[o * n + j] / n;
            }
            double[] d = new double[n];
            double ss = 0;
            for (int j = 0; j < n; j++) {
                d[j] = w[o * n + j] - mu;
                ss += d[j] * d[j];
            }
            double r = Math.sqrt(ss / m + v.epsIn);
            double big = r + v.epsOut;
            double[] gd = new double[n];
            for (int j = 0; j < n; j++) {
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    double jac = (i == j ? 1 / big : 0) - (r == 0 ? 0 : d[i] * d[j] / (m * r * big * big));
                    acc += g[o * n + i] * jac;
                }
                gd[j] = acc;
            }
            double meanGd = 0;
            for (int j = 0; j < n; j++) {
                meanGd += gd[j] / n;
            }
            for (int j = 0; j < n; j++) {
                out[o * n + j] = gd[j] - meanGd;
            }
        }
        return out;
    }

    static double[] randn(long seed, int n, double scale) {
        Rng rng = new Rng(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = scale * rng.nextGaussian();
        }
        return v;
    }

    // ------------------------------------------------------------ forward and backward

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("grid")
    void forwardAndBackwardMatchTheSpec(Variant v, int[] dims, DType dtype) {
        try (Scope s = Scope.open()) {
            Shape shape = Shape.of(dims);
            int n = (int) shape.numel();
            double[] wv = randn(11 + n, n, 0.3);
            for (int i = 0; i < n; i++) {
                wv[i] += 0.1 * (i % dims[0]); // a different offset per row exercises the centring
            }
            double[] gv = randn(23 + n, n, 1.0);
            Tensor w = Tensor.fromDoubles(wv, shape, dtype, Device.CPU).requiresGrad(true);
            // float32 inputs are rounded before the reference sees them, as the kernel sees them
            double[] wIn = w.toDoubleArray();
            Tensor y = WeightStandardization.weightStandardize(w, v.epsIn, v.epsOut, v.unbiased);
            assertEquals(dtype, y.dtype());
            assertClose("forward " + v, refForward(wIn, dims[0], v), y, Close.atol(y), Close.rtol(y));
            Tensor g = Tensor.fromDoubles(gv, shape, dtype, Device.CPU);
            y.backward(g);
            double[] ref = refBackward(wIn, g.toDoubleArray(), dims[0], v);
            assertClose("dW " + v, ref, w.grad(), dtype == DType.F32 ? 1e-4 : 1e-10, Close.rtol(y));
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("gradcheckGrid")
    void gradcheckFloat64(Variant v, int[] dims) {
        try (Scope s = Scope.open()) {
            Shape shape = Shape.of(dims);
            Tensor w = Tensor.fromDoubles(randn(5, (int) shape.numel(), 0.5), shape, DType.F64, Device.CPU)
                    .requiresGrad(true);
            Gradcheck.Result r = Gradcheck.check(
                    in -> WeightStandardization.weightStandardize(in[0], v.epsIn, v.epsOut, v.unbiased), w);
            assertTrue(r.passed(), r.message());
        }
    }

    static Stream<Arguments> gradcheckGrid() {
        List<Arguments> out = new ArrayList<>();
        for (Variant v : VARIANTS) {
            for (int[] s : new int[][] {{3, 2, 2, 2}, {4, 3, 1, 1}, {2, 6}}) {
                out.add(Arguments.of(v, s));
            }
        }
        return out.stream();
    }

    /** Weights of scale 1e-4, where eps dominates the denominator and gradients reach ~1e4. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void epsDominatedRegime(Variant v) {
        try (Scope s = Scope.open()) {
            int[] dims = {3, 2, 2, 2};
            double[] wv = randn(7, 24, 1e-4);
            Tensor w = Tensor.of(wv, dims).requiresGrad(true);
            Tensor y = WeightStandardization.weightStandardize(w, v.epsIn, v.epsOut, v.unbiased);
            assertClose("forward", refForward(wv, 3, v), y, 1e-12, 1e-10);
            double[] gv = randn(8, 24, 1.0);
            y.backward(Tensor.of(gv, dims));
            assertClose("dW", refBackward(wv, gv, 3, v), w.grad(), 1e-7, 1e-10);
            Gradcheck.Result r = Gradcheck.check(
                    in -> WeightStandardization.weightStandardize(in[0], v.epsIn, v.epsOut, v.unbiased),
                    new Tensor[] {w}, 1e-10, 1e-2, 1e-4);
            assertTrue(r.passed(), r.message());
        }
    }

    static Stream<Variant> variants() {
        return VARIANTS.stream();
    }

    @Test
    void float32AgreesWithFloat64() {
        try (Scope s = Scope.open()) {
            double[] wv = randn(99, 8 * 4 * 3 * 3, 0.05);
            Tensor w64 = Tensor.of(wv, 8, 4, 3, 3);
            Tensor w32 = w64.to(DType.F32);
            Tensor y64 = WeightStandardization.weightStandardize(w64, 0, 1e-5, true);
            Tensor y32 = WeightStandardization.weightStandardize(w32, 0, 1e-5, true);
            assertEquals(DType.F32, y32.dtype());
            assertClose("f32 vs f64", y64.toDoubleArray(), y32, 1e-5, 1e-5);
        }
    }

    // ------------------------------------------------------------ edge cases (§1.5)

    /** A constant row: Ŵ = 0; official gives dW = (G − Ḡ)/ε, eps inside gives (G − Ḡ)/sqrt(ε). */
    @Test
    void zeroVarianceRow() {
        try (Scope s = Scope.open()) {
            double[] wv = {0.7, 0.7, 0.7, 0.7, 1, -2, 3, 0.5};
            double[] gv = {1, -2, 0.5, 4, 1, 1, 1, 1};
            double gMean = (1 - 2 + 0.5 + 4) / 4.0;
            for (Variant v : VARIANTS) {
                Tensor w = Tensor.of(wv, 2, 4).requiresGrad(true);
                Tensor y = WeightStandardization.weightStandardize(w, v.epsIn, v.epsOut, v.unbiased);
                double[] yv = y.toDoubleArray();
                for (int j = 0; j < 4; j++) {
                    assertEquals(0.0, yv[j], 0.0, v + " Ŵ of the constant row");
                }
                y.backward(Tensor.of(gv, 2, 4));
                double denom = Math.sqrt(v.epsIn) + v.epsOut;
                double[] dw = w.grad().toDoubleArray();
                for (int j = 0; j < 4; j++) {
                    double expected = (gv[j] - gMean) / denom;
                    assertEquals(expected, dw[j], 1e-9 * Math.abs(expected), v + " dW of the constant row at " + j);
                    assertTrue(Double.isFinite(dw[j]));
                }
                double[] ref = refBackward(wv, gv, 2, v);
                assertClose(v + " the other row", java.util.Arrays.copyOfRange(ref, 4, 8),
                        java.util.Arrays.copyOfRange(dw, 4, 8), 1e-12, 1e-10);
            }
        }
    }

    /** Fan-in 1 (depthwise 1×1): biased variants give Ŵ = 0 and dW = 0; unbiased ones are rejected. */
    @Test
    void fanInOne() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(new double[] {0.3, -1.2, 2.0}, 3, 1, 1, 1).requiresGrad(true);
            Tensor y = WeightStandardization.weightStandardize(w, 1e-5, 0, false);
            assertClose("biased fan-in 1", new double[3], y, 0, 0);
            y.backward(Tensor.of(new double[] {1, 2, 3}, 3, 1, 1, 1));
            assertClose("biased fan-in 1 dW", new double[3], w.grad(), 0, 0);

            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WeightStandardization.weightStandardize(w, 0, 1e-5, true));
            assertTrue(e.getMessage().contains("weightStandardize"), e.getMessage());
            assertTrue(e.getMessage().contains("[3, 1, 1, 1]"), e.getMessage());
            assertTrue(e.getMessage().contains("fan-in I = 1"), e.getMessage());
        }
    }

    @Test
    void badArgumentsAreNamed() {
        try (Scope s = Scope.open()) {
            Tensor v = Tensor.of(new double[] {1, 2, 3}, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> WeightStandardization.weightStandardize(v, 0, 1e-5, true));
            assertTrue(e.getMessage().contains("rank >= 2") && e.getMessage().contains("[3]"), e.getMessage());
            Tensor w = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2);
            e = assertThrows(IllegalArgumentException.class,
                    () -> WeightStandardization.weightStandardize(w, -1e-5, 0, true));
            assertTrue(e.getMessage().contains("epsIn") && e.getMessage().contains("-1.0E-5"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> WeightStandardization.weightStandardize(w, 0, 0, false));
            assertTrue(e.getMessage().contains("both 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> WeightStandardization.weightStandardize(w, Double.NaN, 0, false));
            assertTrue(e.getMessage().contains("epsIn must be finite"), e.getMessage());
        }
    }

    @Test
    void composesWithOtherOpsInOneGraph() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(randn(3, 12, 1.0), 3, 4).requiresGrad(true);
            Gradcheck.Result r = Gradcheck.check(in -> Ops.mul(
                    WeightStandardization.weightStandardize(Ops.mul(in[0], in[0]), 1e-5, 0, true), in[0]), w);
            assertTrue(r.passed(), r.message());
        }
    }
}
