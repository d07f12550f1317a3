package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertSame;
import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Shape kernels on the GPU against the CPU reference: data movement must be exact. */
class CudaShapesTest {
    private static final String MODULE = "shape";
    private static final CudaTestSupport.Claims CLAIMS = new CudaTestSupport.Claims();

    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
        CLAIMS.before();
    }

    @AfterEach
    void close(TestInfo info) {
        scope.close();
        CLAIMS.after(info.getTestMethod().orElseThrow());
    }

    @AfterAll
    static void claims() {
        CLAIMS.assertClaimsRan();
    }

    static Stream<Arguments> expandCases() {
        int[][][] c = {{{1, 3, 1, 1}, {2, 3, 5, 7}}, {{5, 1}, {4, 5, 33}}, {{1}, {4099}}, {{3, 1, 2}, {3, 4, 2}}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int[][] s : c) {
                a.add(Arguments.of(t, s[0], s[1]));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1} -> {2}")
    @MethodSource("expandCases")
    @CoversKernels(module = MODULE, value = {"shape_gather_f32", "shape_gather_f64"})
    void expandMatchesTheReference(DType t, int[] from, int[] to) {
        Tensor x = cpuRandn(31, t, from);
        Tensor ref = Tensor.zeros(Shape.of(to), t, Device.CPU);
        x.backend().shapes().expand(x, ref);
        Tensor gx = gpu(x);
        Tensor out = Tensor.zeros(Shape.of(to), t, gx.device());
        assertEquals(Map.of("shape_gather_" + t.suffix(), 1L), launchesDuring(() -> gx.backend().shapes().expand(gx, out)));
        assertSame(ref.toDoubleArray(), out.toDoubleArray(), "expand " + t);
    }

    static Stream<Arguments> permuteCases() {
        // shape, permutation, the kernel that must run
        Object[][] c = {
            {new int[] {45, 37}, new int[] {1, 0}, "shape_transpose"},
            {new int[] {3, 45, 37}, new int[] {0, 2, 1}, "shape_transpose"},
            {new int[] {2, 3, 5, 7}, new int[] {0, 2, 3, 1}, "shape_transpose"},
            {new int[] {2, 3, 5, 7}, new int[] {0, 3, 1, 2}, "shape_transpose"},
            {new int[] {1, 64, 1}, new int[] {2, 1, 0}, "shape_gather"},
            {new int[] {2, 3, 5, 7}, new int[] {3, 1, 0, 2}, "shape_gather"},
            {new int[] {4, 3, 2}, new int[] {1, 0, 2}, "shape_gather"},
        };
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (Object[] s : c) {
                a.add(Arguments.of(t, s[0], s[1], s[2]));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1} perm {2}")
    @MethodSource("permuteCases")
    @CoversKernels(module = MODULE, value = {"shape_gather_f32", "shape_gather_f64", "shape_transpose_f32",
        "shape_transpose_f64"})
    void permuteMatchesTheReference(DType t, int[] dims, int[] perm, String kernel) {
        Tensor x = cpuRandn(32, t, dims);
        Tensor ref = Ops.permute(x, perm);
        Tensor gx = gpu(x);
        Tensor[] out = new Tensor[1];
        Map<String, Long> l = launchesDuring(() -> out[0] = Ops.permute(gx, perm));
        assertEquals(Map.of(kernel + "_" + t.suffix(), 1L), l);
        assertEquals(ref.shape(), out[0].shape());
        assertSame(ref.toDoubleArray(), out[0].toDoubleArray(), "permute " + t);
    }

    static Stream<Arguments> sliceCases() {
        // shape, axis, start, end, step
        int[][] c = {{7, 0, 1, 6, 2}, {3, 37, 1, 2, 35, 1}, {2, 3, 5, 7, 1, 1, 3, 1}, {2, 3, 5, 7, 3, 0, 7, 3},
            {4099, 0, 3, 4099, 4}, {2, 3, 5, 7, 0, 1, 2, 1}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int[] s : c) {
                int r = s.length - 4;
                a.add(Arguments.of(t, java.util.Arrays.copyOf(s, r), s[r], s[r + 1], s[r + 2], s[r + 3]));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1} axis {2} [{3}:{4}:{5}]")
    @MethodSource("sliceCases")
    @CoversKernels(module = MODULE, value = {"shape_gather_f32", "shape_gather_f64", "shape_scatter_f32",
        "shape_scatter_f64"})
    void sliceAndSliceScatterMatchTheReference(DType t, int[] dims, int axis, int start, int end, int step) {
        Tensor x = cpuRandn(33, t, dims);
        Tensor ref = Ops.slice(x, axis, start, end, step);
        Tensor gx = gpu(x);
        Tensor[] out = new Tensor[1];
        assertEquals(Map.of("shape_gather_" + t.suffix(), 1L),
                launchesDuring(() -> out[0] = Ops.slice(gx, axis, start, end, step)));
        assertSame(ref.toDoubleArray(), out[0].toDoubleArray(), "slice " + t);

        // The adjoint writes the slice into a tensor that keeps its other values.
        Tensor dst = cpuRandn(34, t, dims);
        Tensor src = cpuRandn(35, t, ref.shape().dims());
        dst.backend().shapes().sliceScatter(src, axis, start, step, dst);
        Tensor gdst = gpu(cpuRandn(34, t, dims));
        Tensor gsrc = gpu(src);
        assertEquals(Map.of("shape_scatter_" + t.suffix(), 1L),
                launchesDuring(() -> gdst.backend().shapes().sliceScatter(gsrc, axis, start, step, gdst)));
        assertSame(dst.toDoubleArray(), gdst.toDoubleArray(), "sliceScatter " + t);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"shape_scatter_f32", "shape_scatter_f64"})
    void concatOnTheGpu(DType t) {
        Tensor a = cpuRandn(36, t, 2, 3, 4);
        Tensor b = cpuRandn(37, t, 2, 5, 4);
        Tensor ref = Ops.concat(1, a, b);
        assertSame(ref.toDoubleArray(), Ops.concat(1, gpu(a), gpu(b)).toDoubleArray(), "concat " + t);
    }

    @Test
    @CoversKernels(module = MODULE, value = {"shape_gather_f64", "shape_transpose_f64", "shape_scatter_f64"})
    void gradcheckOnTheGpu() {
        Tensor x = gpu(cpuRandn(38, DType.F64, 2, 3, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.permute(in[0], 0, 2, 1), x);
        Gradcheck.assertPasses(in -> Ops.permute(in[0], 1, 0, 2), x);
        Gradcheck.assertPasses(in -> Ops.slice(in[0], 1, 0, 3, 2), x);
        Gradcheck.assertPasses(in -> Ops.expand(in[0], Shape.of(2, 2, 3, 2)), x);
        Tensor y = gpu(cpuRandn(39, DType.F64, 2, 1, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.concat(1, in[0], in[1]), x, y);
    }

    @Test
    @CoversKernels(module = MODULE, value = {"shape_transpose_f32", "shape_gather_f32"})
    void tiledTransposeCoalescesWhereTheGatherCannot() {
        Tensor x = gpu(cpuRandn(40, DType.F32, 64, 64));
        Ops.permute(x, 1, 0);
        backend().driver().lastLaunchCounters().ifPresent(tiled -> {
            // 32 consecutive floats per warp request on both sides: 4 sectors.
            assertEquals(4.0, tiled.loadSectorsPerRequest(), 1e-9, "transpose loads");
            assertEquals(4.0, tiled.storeSectorsPerRequest(), 1e-9, "transpose stores");
            assertEquals(64L * 64 * 4, tiled.globalLoadBytes());
            assertEquals(64L * 64 * 4, tiled.globalStoreBytes());
            // The padded tile avoids bank conflicts on the column-wise reads.
            assertTrue(tiled.sharedWavefrontsPerRequest() <= 1.0 + 1e-9, "bank conflicts: " + tiled);
        });
        Tensor y = gpu(cpuRandn(41, DType.F32, 64, 2, 32));
        Ops.permute(y, 2, 1, 0);
        backend().driver().lastLaunchCounters().ifPresent(gather ->
                assertTrue(gather.loadSectorsPerRequest() > 16, "a strided gather touches many sectors: " + gather));
    }
}
