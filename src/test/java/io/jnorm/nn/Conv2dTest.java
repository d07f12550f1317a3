package io.jnorm.nn;

import static io.jnorm.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.WeightStandardization;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Conv2d with weight standardization: y = conv(x, Ŵ) + b, checked against a direct loop. */
class Conv2dTest {

    /** (in, out, k, stride, padding, dilation, groups, N, H, W, preset). */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(3, 4, 3, 1, 1, 1, 1, 2, 5, 5, WsPreset.OFFICIAL),
                Arguments.of(4, 6, 3, 2, 0, 1, 2, 1, 6, 5, WsPreset.BCN_REPO),
                Arguments.of(2, 2, 2, 1, 1, 2, 1, 2, 4, 4, WsPreset.BIASED),
                Arguments.of(4, 4, 1, 1, 0, 1, 4, 2, 3, 3, WsPreset.BIASED), // depthwise 1x1: fan-in 1
                Arguments.of(3, 2, 1, 1, 0, 1, 1, 1, 1, 1, WsPreset.OFFICIAL), // H·W = 1, N = 1
                Arguments.of(2, 3, 3, 1, 1, 1, 1, 2, 4, 4, null));
    }

    /** Ŵ row by row from the spec's formula. */
    static double[] standardize(double[] w, int rows, WsPreset p) {
        if (p == null) {
            return w.clone();
        }
        int n = w.length / rows;
        double[] out = new double[w.length];
        for (int o = 0; o < rows; o++) {
            double mu = 0;
            for (int j = 0; j < n; j++) {
                mu += w[o * n + j];
            }
            mu /= n;
            double ss = 0;
            for (int j = 0; j < n; j++) {
                ss += Math.pow(w[o * n + j] - mu, 2);
            }
            double sd = Math.sqrt(ss / (p.unbiased() ? n - 1 : n) + p.epsIn()) + p.epsOut();
            for (int j = 0; j < n; j++) {
                out[o * n + j] = (w[o * n + j] - mu) / sd;
            }
        }
        return out;
    }

    /** The definition of a cross-correlation with zero padding, stride, dilation and groups. */
    static double[] conv(double[] x, int n, int c, int h, int wd, double[] w, int o, int k, double[] b,
                         int s, int p, int d, int g, int oh, int ow) {
        double[] y = new double[n * o * oh * ow];
        int cg = c / g;
        for (int ni = 0; ni < n; ni++) {
            for (int oi = 0; oi < o; oi++) {
                int grp = oi / (o / g);
                for (int yi = 0; yi < oh; yi++) {
                    for (int xi = 0; xi < ow; xi++) {
                        double acc = b == null ? 0 : b[oi];
                        for (int ci = 0; ci < cg; ci++) {
                            for (int ki = 0; ki < k; ki++) {
                                for (int kj = 0; kj < k; kj++) {
                                    int r = yi * s - p + ki * d;
                                    int q = xi * s - p + kj * d;
                                    if (r >= 0 && r < h && q >= 0 && q < wd) {
                                        acc += x[((ni * c + grp * cg + ci) * h + r) * wd + q]
                                                * w[((oi * cg + ci) * k + ki) * k + kj];
                                    }
                                }
                            }
                        }
                        y[((ni * o + oi) * oh + yi) * ow + xi] = acc;
                    }
                }
            }
        }
        return y;
    }

    static Conv2d layer(int in, int out, int k, int s, int p, int d, int g, WsPreset ws, DType t, long seed) {
        return Conv2d.builder(in, out, k).stride(s).padding(p).dilation(d).groups(g).ws(ws).dtype(t)
                .rng(new Rng(seed)).build();
    }

    @ParameterizedTest(name = "in{0} out{1} k{2} s{3} p{4} d{5} g{6} N{7} {8}x{9} {10}")
    @MethodSource("cases")
    void forwardMatchesDirectConvolutionOfTheStandardizedWeight(int in, int out, int k, int s, int p, int d, int g,
                                                               int n, int h, int w, WsPreset ws) {
        for (DType t : DType.values()) {
            try (Scope scope = Scope.open(); Conv2d conv = layer(in, out, k, s, p, d, g, ws, t, 3)) {
                Tensor x = Tensor.randn(new Rng(4), t, n, in, h, w);
                Tensor y = conv.forward(x);
                int oh = (h + 2 * p - d * (k - 1) - 1) / s + 1;
                int ow = (w + 2 * p - d * (k - 1) - 1) / s + 1;
                assertArrayEquals(new int[] {n, out, oh, ow}, y.shape().dims());
                double[] wHat = standardize(conv.parameter("weight").toDoubleArray(), out, ws);
                double[] ref = conv(x.toDoubleArray(), n, in, h, w, wHat, out, k,
                        conv.parameter("bias").toDoubleArray(), s, p, d, g, oh, ow);
                assertClose(t + " y", ref, y, t == DType.F32 ? 1e-5 : 1e-12, t == DType.F32 ? 1e-5 : 1e-11);
                assertClose(t + " effective weight", wHat, conv.effectiveWeight(), t == DType.F32 ? 1e-6 : 1e-13,
                        1e-6);
            }
        }
    }

    @ParameterizedTest(name = "in{0} out{1} k{2} s{3} p{4} d{5} g{6} N{7} {8}x{9} {10}")
    @MethodSource("cases")
    void gradcheckInputWeightAndBias(int in, int out, int k, int s, int p, int d, int g, int n, int h, int w,
                                     WsPreset ws) {
        try (Scope scope = Scope.open(); Conv2d conv = layer(in, out, k, s, p, d, g, ws, DType.F64, 5)) {
            Tensor x = Tensor.randn(new Rng(6), DType.F64, n, in, h, w).requiresGrad(true);
            Tensor wt = conv.parameter("weight");
            Tensor b = conv.parameter("bias");
            Gradcheck.Result r = Gradcheck.check(args -> {
                Tensor used = ws == null ? args[1]
                        : WeightStandardization.weightStandardize(args[1], ws.epsIn(), ws.epsOut(), ws.unbiased());
                return Ops.conv2d(args[0], used, args[2], new int[] {s}, new int[] {p}, new int[] {d}, g);
            }, x, wt, b);
            assertTrue(r.passed(), r.message());
            // and the module itself: its gradients are those of the same function
            Tensor y = conv.forward(x);
            Tensor gy = Tensor.randn(new Rng(7), y.shape(), DType.F64, y.device());
            y.backward(gy);
            assertTrue(wt.grad() != null && b.grad() != null && x.grad() != null);
            double[] dwModule = wt.grad().toDoubleArray();
            conv.zeroGrad();
            x.zeroGrad();
            Tensor used = ws == null ? wt : WeightStandardization.weightStandardize(wt, ws.epsIn(), ws.epsOut(),
                    ws.unbiased());
            Ops.conv2d(x, used, b, new int[] {s}, new int[] {p}, new int[] {d}, g).backward(gy);
            assertArrayEquals(wt.grad().toDoubleArray(), dwModule, 0.0);
        }
    }

    @Test
    void pytorchDefaultInitIsSeededAndBounded() {
        try (Conv2d a = layer(6, 8, 3, 1, 1, 1, 2, null, DType.F64, 42);
             Conv2d b = layer(6, 8, 3, 1, 1, 1, 2, null, DType.F64, 42);
             Conv2d c = layer(6, 8, 3, 1, 1, 1, 2, null, DType.F64, 43)) {
            double bound = 1 / Math.sqrt(3 * 3 * 3); // fan-in = in/groups * k * k
            double[] w = a.parameter("weight").toDoubleArray();
            double[] bias = a.parameter("bias").toDoubleArray();
            assertArrayEquals(new int[] {8, 3, 3, 3}, a.parameter("weight").shape().dims());
            double maxAbs = 0;
            for (double v : w) {
                maxAbs = Math.max(maxAbs, Math.abs(v));
            }
            for (double v : bias) {
                assertTrue(Math.abs(v) <= bound, "bias " + v + " outside the bound " + bound);
            }
            assertTrue(maxAbs <= bound && maxAbs > 0.8 * bound, "max |w| " + maxAbs + " vs bound " + bound);
            assertArrayEquals(w, b.parameter("weight").toDoubleArray(), 0.0);
            assertFalse(Arrays.equals(w, c.parameter("weight").toDoubleArray()));
            assertEquals(2, a.namedParameters().size());
        }
        try (Conv2d nob = Conv2d.builder(2, 2, 3).bias(false).ws().build()) {
            assertNull(nob.parameter("bias"));
            assertEquals(WsPreset.OFFICIAL, nob.ws());
            assertEquals(DType.F32, nob.parameter("weight").dtype());
        }
    }

    @Test
    void wsIsTheSameInTrainAndEval() {
        try (Scope scope = Scope.open(); Conv2d conv = layer(3, 4, 3, 1, 1, 1, 1, WsPreset.OFFICIAL, DType.F64, 9)) {
            Tensor x = Tensor.randn(new Rng(1), DType.F64, 2, 3, 4, 4);
            double[] train = conv.forward(x).toDoubleArray();
            conv.eval();
            assertArrayEquals(train, conv.forward(x).toDoubleArray(), 0.0);
        }
    }

    @Test
    void float32AgreesWithFloat64() {
        try (Scope scope = Scope.open();
             Conv2d c64 = layer(4, 4, 3, 1, 1, 1, 1, WsPreset.BCN_REPO, DType.F64, 2);
             Conv2d c32 = layer(4, 4, 3, 1, 1, 1, 1, WsPreset.BCN_REPO, DType.F32, 2)) {
            Tensor x = Tensor.randn(new Rng(3), DType.F64, 2, 4, 5, 5);
            double[] y64 = c64.forward(x).toDoubleArray();
            assertClose("f32 vs f64", y64, c32.forward(x.to(DType.F32)), 1e-5, 1e-5);
        }
    }

    @Test
    void badInputIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv2d.builder(4, 4, 1).groups(4).ws(WsPreset.OFFICIAL).build());
        assertTrue(e.getMessage().contains("Conv2d(in=4, out=4, kernel=1x1"), e.getMessage());
        assertTrue(e.getMessage().contains("OFFICIAL") && e.getMessage().contains("fan-in 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Conv2d.builder(3, 6, 1).groups(3).ws(WsPreset.BCN_REPO).build());
        assertTrue(e.getMessage().contains("BCN_REPO") && e.getMessage().contains("in/groups 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Conv2d.builder(4, 6, 3).groups(4).build());
        assertTrue(e.getMessage().contains("groups 4") && e.getMessage().contains("out 6"), e.getMessage());

        try (Scope scope = Scope.open(); Conv2d conv = Conv2d.builder(3, 4, 3).ws().build()) {
            Tensor bad = Tensor.zeros(DType.F32, 2, 4, 5, 5);
            e = assertThrows(IllegalArgumentException.class, () -> conv.forward(bad));
            assertTrue(e.getMessage().contains("[2, 4, 5, 5]") && e.getMessage().contains("expected 3"),
                    e.getMessage());
            Tensor rank3 = Tensor.zeros(DType.F32, 3, 5, 5);
            e = assertThrows(IllegalArgumentException.class, () -> conv.forward(rank3));
            assertTrue(e.getMessage().contains("rank 4") && e.getMessage().contains("[3, 5, 5]"), e.getMessage());
        }
    }
}
