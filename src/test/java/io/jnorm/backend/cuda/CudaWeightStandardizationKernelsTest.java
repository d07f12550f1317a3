package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.abs;
import static io.jnorm.backend.cuda.KernelBench.assertClose;
import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.cuda.CudaWeightStandardizationLaunchers.Variant;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.DType;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ws_conv.ptx on the emulated GPU against WS written from spec-ws-bcn-sn.md §1 in this test
 * (float64) composed with the CPU reference convolution: the fused forward, input and weight
 * gradients, and the stand-alone standardize / closed-form backward, for the official, bcn_repo
 * and biased_inside variants, with a zero-variance output channel.
 */
class CudaWeightStandardizationKernelsTest {

    static final Variant OFFICIAL = new Variant(0, 1e-5, true);
    static final Variant BCN_REPO = new Variant(1e-5, 0, true);
    static final Variant BIASED_INSIDE = new Variant(1e-5, 0, false);

    private static KernelBench bench;
    private static CudaConvLaunchers conv;
    private static CudaWeightStandardizationLaunchers ws;

    @BeforeAll
    static void open() {
        bench = new KernelBench();
        conv = new CudaConvLaunchers(bench.modules, bench.allocator);
        ws = new CudaWeightStandardizationLaunchers(bench.modules, bench.allocator, conv);
    }

    @AfterAll
    static void close() {
        bench.close();
    }

    @AfterEach
    void free() {
        bench.freeAll();
    }

    static Stream<Arguments> convCases() {
        CudaConvGeometry plain = new CudaConvGeometry(2, 3, 7, 7, 4, 3, 3, new Conv2dSpec(1, 1, 1, 1, 1, 1, 1));
        CudaConvGeometry grouped = new CudaConvGeometry(1, 4, 6, 5, 6, 3, 2, new Conv2dSpec(2, 1, 0, 1, 1, 1, 2));
        CudaConvGeometry dilated = new CudaConvGeometry(2, 6, 6, 6, 9, 3, 3, new Conv2dSpec(1, 1, 2, 2, 2, 2, 3));
        return Stream.of(
                Arguments.of(DType.F32, plain, OFFICIAL), Arguments.of(DType.F64, plain, OFFICIAL),
                Arguments.of(DType.F32, grouped, BCN_REPO), Arguments.of(DType.F64, grouped, BIASED_INSIDE),
                Arguments.of(DType.F32, dilated, BIASED_INSIDE), Arguments.of(DType.F64, dilated, BCN_REPO));
    }

    /** Weights with output channel 1 constant (zero variance), the spec's §1.5 edge case. */
    static double[] weights(CudaConvGeometry g, long seed) {
        double[] w = uniform(g.o() * g.fanIn(), seed);
        Arrays.fill(w, g.fanIn(), 2 * g.fanIn(), 0.25);
        return w;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("convCases")
    @CoversKernels(module = "ws_conv", value = {"ws_stats_f32", "ws_stats_f64", "ws_conv2d_fwd_f32", "ws_conv2d_fwd_f64"})
    void fusedForwardIsTheConvolutionWithTheStandardizedWeight(DType t, CudaConvGeometry g, Variant v) {
        double[] x = uniform(g.n() * g.c() * g.h() * g.w(), 11);
        double[] w = weights(g, 12);
        double[] b = uniform(g.o(), 13);
        int ySize = g.n() * g.o() * g.oh() * g.ow();
        DevicePointer y = bench.output(t, ySize);
        ws.convForward(t, bench.upload(t, x), bench.upload(t, w), bench.upload(t, b), y, g, v);
        assertEquals(List.of("ws_stats_" + t.suffix(), "ws_conv2d_fwd_" + t.suffix()), bench.driver.drainNames(),
                "WS-conv forward is 2 launches and writes no standardized weight");

        double[] what = standardize(w, g.o(), g.fanIn(), v);
        assertClose("ws conv forward " + g, t, CudaConvKernelsTest.cpuForward(g, x, what, b), bench.download(t, y, ySize),
                CudaConvKernelsTest.cpuForward(g, abs(x), abs(what), abs(b)), 2 * g.fanIn() + 8);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("convCases")
    @CoversKernels(module = "ws_conv", value = {"ws_stats_f32", "ws_stats_f64", "ws_conv2d_bwd_input_f32",
            "ws_conv2d_bwd_input_f64"})
    void inputGradientUsesTheStandardizedWeight(DType t, CudaConvGeometry g, Variant v) {
        double[] dy = uniform(g.n() * g.o() * g.oh() * g.ow(), 14);
        double[] w = weights(g, 15);
        int xSize = g.n() * g.c() * g.h() * g.w();
        DevicePointer dx = bench.output(t, xSize);
        ws.convBackwardInput(t, bench.upload(t, dy), bench.upload(t, w), dx, g, v);
        assertEquals(List.of("ws_stats_" + t.suffix(), "ws_conv2d_bwd_input_" + t.suffix()), bench.driver.drainNames());

        double[] what = standardize(w, g.o(), g.fanIn(), v);
        assertClose("ws conv input gradient " + g, t, CudaConvKernelsTest.cpuInputGrad(g, dy, what),
                bench.download(t, dx, xSize), CudaConvKernelsTest.cpuInputGrad(g, abs(dy), abs(what)),
                g.og() * g.kh() * g.kw() + 2 * g.fanIn() + 8);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("convCases")
    @CoversKernels(module = "ws_conv", value = {"ws_bwd_weight_f32", "ws_bwd_weight_f64"})
    void weightGradientGoesThroughTheClosedForm(DType t, CudaConvGeometry g, Variant v) {
        double[] dy = uniform(g.n() * g.o() * g.oh() * g.ow(), 16);
        double[] x = uniform(g.n() * g.c() * g.h() * g.w(), 17);
        double[] w = weights(g, 18);
        int wSize = g.o() * g.fanIn();
        int splits = g.outputPixels() >= 16 ? 2 : 1;
        DevicePointer dw = bench.output(t, wSize);
        ws.convBackwardWeight(t, bench.upload(t, dy), bench.upload(t, x), bench.upload(t, w), dw, g, v, splits);
        assertEquals(List.of("conv2d_bwd_weight_" + t.suffix(), "ws_bwd_weight_" + t.suffix()), bench.driver.drainNames());

        double[] grad = CudaConvKernelsTest.cpuWeightGrad(g, dy, x);
        double[] gradAbs = CudaConvKernelsTest.cpuWeightGrad(g, abs(dy), abs(x));
        assertClose("ws conv weight gradient " + g, t, closedForm(w, grad, g.o(), g.fanIn(), v),
                bench.download(t, dw, wSize), closedFormBound(w, gradAbs, g.o(), g.fanIn(), v),
                (int) g.outputPixels() + 2 * g.fanIn() + 8);
    }

    static Stream<Arguments> rowCases() {
        return Stream.of(
                Arguments.of(DType.F32, 5, 27, OFFICIAL), Arguments.of(DType.F64, 5, 27, OFFICIAL),
                Arguments.of(DType.F32, 3, 300, BCN_REPO), Arguments.of(DType.F64, 2, 9, BIASED_INSIDE));
    }

    @ParameterizedTest(name = "{0} O={1} I={2} {3}")
    @MethodSource("rowCases")
    @CoversKernels(module = "ws_conv", value = {"ws_standardize_f32", "ws_standardize_f64", "ws_bwd_weight_f32",
            "ws_bwd_weight_f64"})
    void standAloneStandardizeAndBackward(DType t, int rows, int fanIn, Variant v) {
        double[] w = uniform(rows * fanIn, 19);
        Arrays.fill(w, 0, fanIn, -0.5);  // a zero-variance row
        double[] g = uniform(rows * fanIn, 20);
        DevicePointer dw = bench.upload(t, w);
        DevicePointer what = bench.output(t, rows * fanIn);
        ws.standardize(t, dw, what, rows, fanIn, v);
        double[] ref = standardize(w, rows, fanIn, v);
        assertClose("ws standardize", t, ref, bench.download(t, what, rows * fanIn), abs(ref), 2 * fanIn + 8);

        DevicePointer gw = bench.output(t, rows * fanIn);
        ws.backward(t, dw, bench.upload(t, g), gw, rows, fanIn, v);
        assertClose("ws closed-form backward", t, closedForm(w, g, rows, fanIn, v), bench.download(t, gw, rows * fanIn),
                closedFormBound(w, abs(g), rows, fanIn, v), 2 * fanIn + 8);
        assertEquals(List.of("ws_standardize_" + t.suffix(), "ws_bwd_weight_" + t.suffix()), bench.driver.drainNames());
    }

    // ---- WS from the spec (§1.2, §1.4), float64 ------------------------------------------------

    /** [mean, r = sqrt(var + epsIn), D = r + epsOut, M] of row o. */
    static double[] rowStats(double[] w, int o, int fanIn, Variant v) {
        double mean = 0;
        for (int j = 0; j < fanIn; j++) {
            mean += w[o * fanIn + j];
        }
        mean /= fanIn;
        double ss = 0;
        for (int j = 0; j < fanIn; j++) {
            double d = w[o * fanIn + j] - mean;
            ss += d * d;
        }
        double m = v.unbiased() ? fanIn - 1 : fanIn;
        double r = Math.sqrt(ss / m + v.epsIn());
        return new double[] {mean, r, r + v.epsOut(), m};
    }

    static double[] standardize(double[] w, int rows, int fanIn, Variant v) {
        double[] out = new double[w.length];
        for (int o = 0; o < rows; o++) {
            double[] s = rowStats(w, o, fanIn, v);
            for (int j = 0; j < fanIn; j++) {
                out[o * fanIn + j] = (w[o * fanIn + j] - s[0]) / s[2];
            }
        }
        return out;
    }

    /** dW = (G - mean G) / D - What <G, What> / (M r), the second term 0 when r = 0. */
    static double[] closedForm(double[] w, double[] g, int rows, int fanIn, Variant v) {
        double[] what = standardize(w, rows, fanIn, v);
        double[] out = new double[w.length];
        for (int o = 0; o < rows; o++) {
            double[] s = rowStats(w, o, fanIn, v);
            double meanG = 0;
            double dot = 0;
            for (int j = 0; j < fanIn; j++) {
                meanG += g[o * fanIn + j] / fanIn;
                dot += g[o * fanIn + j] * what[o * fanIn + j];
            }
            double coef = s[1] > 0 ? dot / (s[3] * s[1]) : 0;
            for (int j = 0; j < fanIn; j++) {
                out[o * fanIn + j] = (g[o * fanIn + j] - meanG) / s[2] - what[o * fanIn + j] * coef;
            }
        }
        return out;
    }

    /** The closed form over absolute values: a bound on the magnitude of every rounded term. */
    static double[] closedFormBound(double[] w, double[] gAbs, int rows, int fanIn, Variant v) {
        double[] what = standardize(w, rows, fanIn, v);
        double[] out = new double[w.length];
        for (int o = 0; o < rows; o++) {
            double[] s = rowStats(w, o, fanIn, v);
            double meanG = 0;
            double dot = 0;
            for (int j = 0; j < fanIn; j++) {
                meanG += gAbs[o * fanIn + j] / fanIn;
                dot += gAbs[o * fanIn + j] * Math.abs(what[o * fanIn + j]);
            }
            double coef = s[1] > 0 ? dot / (s[3] * s[1]) : 0;
            for (int j = 0; j < fanIn; j++) {
                out[o * fanIn + j] = (gAbs[o * fanIn + j] + meanG) / s[2] + Math.abs(what[o * fanIn + j]) * coef;
            }
        }
        return out;
    }
}
