package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.cpu;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.eps;
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

/**
 * Reductions on the GPU against the CPU reference over axis sets that hit each layout (rows,
 * columns, general), with tails, a single block and looping grids, size-1 axes, N = 1.
 *
 * <p>Tolerances from the accumulation length: the kernels add at most ceil(n / 8) terms in one
 * thread's chain, then a tree of at most log2(n) + 8 levels, so a sum's error is below
 * (n / 8 + log2 n + 10) u sum|x|; a variance's below the same factor times sum(x^2) / (n - c).
 * The reference itself is float64, so in float64 the bound is the GPU's alone.
 */
class CudaReductionsTest {
    private static final String MODULE = "reduce";
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

    enum Kind { SUM, MEAN, VAR0, VAR1 }

    static Stream<Arguments> cases() {
        // shape, reduced axes, the kernel family that must run
        Object[][] shapes = {
            {new int[] {4099}, new int[] {0}, "reduce_rows"},
            {new int[] {3, 37}, new int[] {1}, "reduce_rows_warp"},
            {new int[] {5, 300}, new int[] {1}, "reduce_rows"},
            {new int[] {600, 3}, new int[] {1}, "reduce_rows_warp"},
            {new int[] {130, 40}, new int[] {1}, "reduce_rows_warp"},
            {new int[] {3, 37}, new int[] {0}, "reduce_cols"},
            {new int[] {2, 3, 5, 7}, new int[] {1}, "reduce_cols"},
            {new int[] {2, 3, 5, 7}, new int[] {2, 3}, "reduce_rows_warp"},
            {new int[] {2, 3, 5, 7}, new int[] {0, 2, 3}, "reduce_general"},
            {new int[] {2, 3, 5, 7}, new int[] {0, 1, 2, 3}, "reduce_rows"},
            {new int[] {1, 3, 4, 4}, new int[] {0, 2, 3}, "reduce_rows_warp"},
            {new int[] {1, 5, 1}, new int[] {0, 2}, "reduce_cols"},
            {new int[] {70, 3, 9}, new int[] {0}, "reduce_cols"},
            {new int[] {4, 3, 2, 5, 6}, new int[] {1, 3}, "reduce_general"},
            {new int[] {9, 2, 130}, new int[] {0, 2}, "reduce_general"},
            // more outputs than the capped grid has blocks: the kernels loop over outputs
            {new int[] {3, 100, 5}, new int[] {0, 2}, "reduce_general"},
            {new int[] {70, 65}, new int[] {1}, "reduce_rows"},
        };
        List<Arguments> a = new ArrayList<>();
        for (Kind k : Kind.values()) {
            for (DType t : DType.values()) {
                for (Object[] s : shapes) {
                    a.add(Arguments.of(k, t, s[0], s[1], s[2]));
                }
            }
        }
        return a.stream();
    }

    static Tensor run(Kind k, Tensor x, boolean[] reduce, Tensor out) {
        switch (k) {
            case SUM -> x.backend().reductions().sum(x, reduce, out);
            case MEAN -> x.backend().reductions().mean(x, reduce, out);
            case VAR0 -> x.backend().reductions().var(x, reduce, 0, out);
            case VAR1 -> x.backend().reductions().var(x, reduce, 1, out);
        }
        return out;
    }

    static boolean[] mask(int rank, int[] axes) {
        boolean[] m = new boolean[rank];
        for (int a : axes) {
            m[a] = true;
        }
        return m;
    }

    static Shape kept(int[] dims, boolean[] reduce) {
        int[] d = dims.clone();
        for (int i = 0; i < d.length; i++) {
            if (reduce[i]) {
                d[i] = 1;
            }
        }
        return Shape.of(d);
    }

    @ParameterizedTest(name = "{0} {1} {2} over {3}")
    @MethodSource("cases")
    @CoversKernels(module = MODULE, value = {"reduce_rows_f32", "reduce_rows_f64", "reduce_rows_warp_f32",
        "reduce_rows_warp_f64", "reduce_cols_f32", "reduce_cols_f64", "reduce_general_f32", "reduce_general_f64"})
    void reductionMatchesTheReference(Kind k, DType t, int[] dims, int[] axes, String kernel) {
        // An offset of 3 makes the variance's cancellation real (Welford must handle it).
        Tensor x = Ops.add(cpuRandn(21, t, dims), Ops.scalarLike(cpuRandn(1, t, 1), 3.0));
        boolean[] reduce = mask(dims.length, axes);
        Shape ks = kept(dims, reduce);
        Tensor ref = run(k, x, reduce, Tensor.zeros(ks, t, Device.CPU));
        Tensor gx = gpu(x);
        Tensor out = Tensor.zeros(ks, t, gx.device());
        Map<String, Long> l = launchesDuring(() -> run(k, gx, reduce, out));
        assertEquals(Map.of(kernel + "_" + t.suffix(), 1L), l);

        double n = (double) x.numel() / ks.numel();
        double factor = (n / 8 + Math.log(n) / Math.log(2) + 10) * eps(t);
        double[] xv = x.toDoubleArray();
        double[] bound = new double[(int) ks.numel()];
        int[] target = targets(dims, reduce);
        for (int i = 0; i < xv.length; i++) {
            bound[target[i]] += k == Kind.SUM || k == Kind.MEAN ? Math.abs(xv[i]) : xv[i] * xv[i];
        }
        for (int o = 0; o < bound.length; o++) {
            double div = switch (k) {
                case SUM -> 1;
                case MEAN, VAR0 -> n;
                case VAR1 -> n - 1;
            };
            bound[o] = factor * bound[o] / div + Double.MIN_NORMAL;
        }
        assertClose(ref.toDoubleArray(), out.toDoubleArray(), bound, 4 * eps(t), k + " " + t + " " + x.shape()
                + " over " + java.util.Arrays.toString(axes));
    }

    /** For each element, its output slot (written from the definition, independent of the kernels). */
    static int[] targets(int[] dims, boolean[] reduce) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        int[] t = new int[n];
        int[] idx = new int[dims.length];
        for (int i = 0; i < n; i++) {
            int o = 0;
            for (int a = 0; a < dims.length; a++) {
                o = o * (reduce[a] ? 1 : dims[a]) + (reduce[a] ? 0 : idx[a]);
            }
            t[i] = o;
            for (int a = dims.length - 1; a >= 0; a--) {
                if (++idx[a] < dims[a]) {
                    break;
                }
                idx[a] = 0;
            }
        }
        return t;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"reduce_cols_f32", "reduce_cols_f64", "reduce_rows_warp_f32",
        "reduce_rows_warp_f64"})
    void unbiasedVarianceOfOneElementIsNaNAndNaNPropagates(DType t) {
        Tensor x = gpu(cpuRandn(22, t, 3, 1));
        Tensor out = Tensor.zeros(Shape.of(3, 1), t, x.device());
        x.backend().reductions().var(x, new boolean[] {false, true}, 1, out);
        for (double v : out.toDoubleArray()) {
            assertTrue(Double.isNaN(v), "var(unbiased) of one element must be NaN, got " + v);
        }
        Tensor y = gpu(cpu(new double[] {1, Double.NaN, 2, 3, 4, 5}, t, 2, 3));
        Tensor s = Tensor.zeros(Shape.of(2, 1), t, y.device());
        y.backend().reductions().sum(y, new boolean[] {false, true}, s);
        double[] sv = s.toDoubleArray();
        assertTrue(Double.isNaN(sv[0]), "a NaN makes its row's sum NaN");
        assertEquals(12.0, sv[1], "the other row is unaffected");
    }

    static Stream<Arguments> varBackwardCases() {
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int c = 0; c <= 1; c++) {
                a.add(Arguments.of(t, c, new int[] {2, 3, 5, 7}, new int[] {0, 2, 3}));
                a.add(Arguments.of(t, c, new int[] {3, 37}, new int[] {1}));
                a.add(Arguments.of(t, c, new int[] {4099}, new int[] {0}));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} correction={1} {2} over {3}")
    @MethodSource("varBackwardCases")
    @CoversKernels(module = MODULE, value = {"var_backward_f32", "var_backward_f64"})
    void varBackwardMatchesTheReference(DType t, int correction, int[] dims, int[] axes) {
        Tensor x = cpuRandn(23, t, dims);
        boolean[] reduce = mask(dims.length, axes);
        Shape ks = kept(dims, reduce);
        Tensor dy = cpuRandn(24, t, ks.dims());
        Tensor ref = Tensor.zeros(x.shape(), t, Device.CPU);
        x.backend().reductions().varBackward(x, dy, reduce, correction, ref);
        Tensor gx = gpu(x);
        Tensor gdy = gpu(dy);
        Tensor dx = Tensor.zeros(x.shape(), t, gx.device());
        Map<String, Long> l = launchesDuring(() -> gx.backend().reductions().varBackward(gx, gdy, reduce, correction, dx));
        assertEquals(1L, l.get("var_backward_" + t.suffix()), "launches " + l);
        assertEquals(2, l.values().stream().mapToLong(Long::longValue).sum(), "a mean launch and the backward: " + l);
        double n = (double) x.numel() / ks.numel();
        // dx = dy * 2 (x - mean) / (n - c): the GPU mean's error (bound as for a sum of |x| / n)
        // enters every element.
        double meanErr = (n / 8 + 20) * eps(t) * 4;
        assertClose(ref.toDoubleArray(), dx.toDoubleArray(), meanErr, 8 * eps(t), "varBackward " + t);
    }

    @Test
    @CoversKernels(module = MODULE, value = {"reduce_rows_warp_f64", "reduce_cols_f64", "reduce_general_f64",
        "var_backward_f64"})
    void gradcheckOnTheGpu() {
        Tensor x = gpu(cpuRandn(25, DType.F64, 2, 3, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.sum(in[0], new int[] {0, 2}, false), x);
        Gradcheck.assertPasses(in -> Ops.mean(in[0], new int[] {2}, true), x);
        Gradcheck.assertPasses(in -> Ops.var(in[0], new int[] {0}, true, false), x);
        Gradcheck.assertPasses(in -> Ops.var(in[0], new int[] {0, 2}, false, true), x);
    }
}
