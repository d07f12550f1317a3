package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.abs;
import static io.jnorm.backend.cuda.KernelBench.assertClose;
import static io.jnorm.backend.cuda.KernelBench.cpu;
import static io.jnorm.backend.cuda.KernelBench.cpuZeros;
import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * conv2d.ptx on the emulated GPU (sanitizer on) against the CPU reference convolution, in float32
 * and float64, over geometries that cover single tiles, tails in every GEMM dimension,
 * multi-block grids, N = 1, stride, padding, dilation and groups (depthwise included).
 */
class CudaConvKernelsTest {

    private static KernelBench bench;
    private static CudaConvLaunchers conv;

    @BeforeAll
    static void open() {
        bench = new KernelBench();
        conv = new CudaConvLaunchers(bench.modules, bench.allocator);
    }

    @AfterAll
    static void close() {
        bench.close();
    }

    @AfterEach
    void free() {
        bench.freeAll();
    }

    /** (n, c, h, w, o, kh, kw, spec): small shapes, each chosen for a case the tiles must get right. */
    static Stream<CudaConvGeometry> geometries() {
        return Stream.of(
                // single tile in M, two in N (98 columns), K = 27: one partial K slice
                new CudaConvGeometry(2, 3, 7, 7, 4, 3, 3, new Conv2dSpec(1, 1, 1, 1, 1, 1, 1)),
                // N = 1, groups 2, stride 2 x 1, asymmetric padding, rectangular kernel
                new CudaConvGeometry(1, 4, 6, 5, 6, 3, 2, new Conv2dSpec(2, 1, 0, 1, 1, 1, 2)),
                // dilation 2 x 1, stride 1 x 2, groups 3, padding 2 x 1
                new CudaConvGeometry(2, 6, 9, 8, 6, 3, 3, new Conv2dSpec(1, 2, 2, 1, 2, 1, 3)),
                // depthwise 1x1
                new CudaConvGeometry(2, 8, 5, 5, 8, 1, 1, new Conv2dSpec(1, 1, 0, 0, 1, 1, 8)),
                // 66 output channels: two M tiles, the second a 2-row tail; 98 columns: two N tiles
                new CudaConvGeometry(2, 5, 7, 7, 66, 3, 3, new Conv2dSpec(1, 1, 1, 1, 1, 1, 1)));
    }

    static Stream<Arguments> cases() {
        return geometries().flatMap(g -> Stream.of(Arguments.of(DType.F32, g), Arguments.of(DType.F64, g)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @CoversKernels(module = "conv2d", value = {"conv2d_fwd_f32", "conv2d_fwd_f64"})
    void forwardMatchesTheReference(DType t, CudaConvGeometry g) {
        double[] x = uniform(g.n() * g.c() * g.h() * g.w(), 1);
        double[] w = uniform(g.o() * g.fanIn(), 2);
        double[] b = uniform(g.o(), 3);
        int ySize = g.n() * g.o() * g.oh() * g.ow();
        DevicePointer y = bench.output(t, ySize);
        conv.forward(t, bench.upload(t, x), bench.upload(t, w), bench.upload(t, b), y, g);
        assertEquals(List.of("conv2d_fwd_" + t.suffix()), bench.driver.drainNames(), "one launch");

        double[] ref = cpuForward(g, x, w, b);
        double[] bound = cpuForward(g, abs(x), abs(w), abs(b));
        assertClose("conv2d forward " + g, t, ref, bench.download(t, y, ySize), bound, g.fanIn() + 1);
    }

    @Test
    @CoversKernels(module = "conv2d", value = "conv2d_fwd_f32")
    void forwardWithoutBias() {
        CudaConvGeometry g = geometries().findFirst().orElseThrow();
        double[] x = uniform(g.n() * g.c() * g.h() * g.w(), 4);
        double[] w = uniform(g.o() * g.fanIn(), 5);
        int ySize = g.n() * g.o() * g.oh() * g.ow();
        DevicePointer y = bench.output(DType.F32, ySize);
        conv.forward(DType.F32, bench.upload(DType.F32, x), bench.upload(DType.F32, w), null, y, g);
        assertClose("conv2d forward without bias", DType.F32, cpuForward(g, x, w, null),
                bench.download(DType.F32, y, ySize), cpuForward(g, abs(x), abs(w), null), g.fanIn());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @CoversKernels(module = "conv2d", value = {"conv2d_bwd_input_f32", "conv2d_bwd_input_f64"})
    void inputGradientMatchesTheReference(DType t, CudaConvGeometry g) {
        double[] dy = uniform(g.n() * g.o() * g.oh() * g.ow(), 6);
        double[] w = uniform(g.o() * g.fanIn(), 7);
        int xSize = g.n() * g.c() * g.h() * g.w();
        DevicePointer dx = bench.output(t, xSize);
        conv.backwardInput(t, bench.upload(t, dy), bench.upload(t, w), dx, g);
        assertEquals(List.of("conv2d_bwd_input_" + t.suffix()), bench.driver.drainNames(), "one launch");

        assertClose("conv2d input gradient " + g, t, cpuInputGrad(g, dy, w), bench.download(t, dx, xSize),
                cpuInputGrad(g, abs(dy), abs(w)), g.og() * g.kh() * g.kw());
    }

    static Stream<Arguments> weightCases() {
        return geometries().flatMap(g -> Stream.of(
                Arguments.of(DType.F32, g, 1), Arguments.of(DType.F64, g, 2), Arguments.of(DType.F32, g, 3)));
    }

    @ParameterizedTest(name = "{0} {1} splits={2}")
    @MethodSource("weightCases")
    @CoversKernels(module = "conv2d", value = {"conv2d_bwd_weight_f32", "conv2d_bwd_weight_f64",
            "conv2d_wgrad_reduce_f32", "conv2d_wgrad_reduce_f64"})
    void weightGradientMatchesTheReferenceWithAndWithoutKSplits(DType t, CudaConvGeometry g, int requestedSplits) {
        // A short K (12 pixels) holds at most two 8-wide splits.
        int splits = (int) Math.min(requestedSplits, (g.outputPixels() + CudaConvLaunchers.TILE_K - 1) / CudaConvLaunchers.TILE_K);
        double[] dy = uniform(g.n() * g.o() * g.oh() * g.ow(), 8);
        double[] x = uniform(g.n() * g.c() * g.h() * g.w(), 9);
        int wSize = g.o() * g.fanIn();
        DevicePointer dw = bench.output(t, wSize);
        conv.backwardWeight(t, bench.upload(t, dy), bench.upload(t, x), dw, g, splits);
        List<String> expected = splits == 1 ? List.of("conv2d_bwd_weight_" + t.suffix())
                : List.of("conv2d_bwd_weight_" + t.suffix(), "conv2d_wgrad_reduce_" + t.suffix());
        assertEquals(expected, bench.driver.drainNames());

        assertClose("conv2d weight gradient " + g, t, cpuWeightGrad(g, dy, x), bench.download(t, dw, wSize),
                cpuWeightGrad(g, abs(dy), abs(x)), (int) g.outputPixels());
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    @CoversKernels(module = "conv2d", value = {"conv2d_bias_grad_f32", "conv2d_bias_grad_f64"})
    void biasGradientSumsOverBatchAndPixels(DType t, CudaConvGeometry g) {
        int plane = g.oh() * g.ow();
        double[] dy = uniform(g.n() * g.o() * plane, 10);
        DevicePointer db = bench.output(t, g.o());
        conv.biasGrad(t, bench.upload(t, dy), db, g);
        double[] ref = new double[g.o()];
        double[] bound = new double[g.o()];
        for (int i = 0; i < dy.length; i++) {
            int o = (i / plane) % g.o();
            ref[o] += dy[i];
            bound[o] += Math.abs(dy[i]);
        }
        assertClose("conv2d bias gradient " + g, t, ref, bench.download(t, db, g.o()), bound, g.n() * plane);
    }

    @Test
    void splitHeuristicNeverLeavesAnEmptySplit() {
        for (CudaConvGeometry g : geometries().toList()) {
            for (int sms : new int[] {1, 8, 132}) {
                int s = CudaConvLaunchers.splitsFor(g, sms);
                int chunk = CudaConvLaunchers.chunkFor(g, s);
                assertEquals(0, chunk % CudaConvLaunchers.TILE_K, "chunk is whole K tiles");
                assertEquals(true, (long) (s - 1) * chunk < g.outputPixels(), g + ": split " + (s - 1) + " is empty");
            }
        }
    }

    // ---- CPU reference (float64) ---------------------------------------------------------------

    static double[] cpuForward(CudaConvGeometry g, double[] x, double[] w, double[] b) {
        try (Tensor tx = cpu(x, g.n(), g.c(), g.h(), g.w());
             Tensor tw = cpu(w, g.o(), g.cg(), g.kh(), g.kw());
             Tensor tb = b == null ? null : cpu(b, g.o());
             Tensor y = cpuZeros(g.n(), g.o(), g.oh(), g.ow())) {
            tx.backend().conv().conv2dForward(tx, tw, tb, g.spec(), y);
            return y.toDoubleArray();
        }
    }

    static double[] cpuInputGrad(CudaConvGeometry g, double[] dy, double[] w) {
        try (Tensor tdy = cpu(dy, g.n(), g.o(), g.oh(), g.ow());
             Tensor tw = cpu(w, g.o(), g.cg(), g.kh(), g.kw());
             Tensor dx = cpuZeros(g.n(), g.c(), g.h(), g.w())) {
            tdy.backend().conv().conv2dBackwardInput(tdy, tw, g.spec(), dx);
            return dx.toDoubleArray();
        }
    }

    static double[] cpuWeightGrad(CudaConvGeometry g, double[] dy, double[] x) {
        try (Tensor tdy = cpu(dy, g.n(), g.o(), g.oh(), g.ow());
             Tensor tx = cpu(x, g.n(), g.c(), g.h(), g.w());
             Tensor dw = cpuZeros(g.o(), g.cg(), g.kh(), g.kw())) {
            tdy.backend().conv().conv2dBackwardWeight(tdy, tx, g.spec(), dw);
            return dw.toDoubleArray();
        }
    }
}
