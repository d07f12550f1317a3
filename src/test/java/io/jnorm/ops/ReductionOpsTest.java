package io.jnorm.ops;

import static io.jnorm.ops.OpTestSupport.assertClose;
import static io.jnorm.ops.OpTestSupport.assertRejects;
import static io.jnorm.ops.OpTestSupport.leaf;
import static io.jnorm.ops.OpTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReductionOpsTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(new int[] {3, 4}, new int[] {1}),
                Arguments.of(new int[] {3, 4}, new int[] {0}),
                Arguments.of(new int[] {2, 3, 4}, new int[] {0, 2}),
                Arguments.of(new int[] {2, 3, 4}, new int[] {-1}),
                Arguments.of(new int[] {4, 1, 3}, new int[] {1, 2}),
                Arguments.of(new int[] {2, 5, 1}, new int[] {0, 1, 2}),
                Arguments.of(new int[] {5}, new int[] {0}));
    }

    static Stream<Arguments> casesDtypesKeepDim() {
        return cases().flatMap(a -> Stream.of(DType.F64, DType.F32).flatMap(d -> Stream.of(true, false)
                .map(k -> Arguments.of(a.get()[0], a.get()[1], d, k))));
    }

    /** Groups x's elements by their coordinates on the kept axes, in output (row-major) order. */
    static List<List<Double>> groups(double[] x, int[] dims, int[] axes) {
        boolean[] red = new boolean[dims.length];
        for (int a : axes) {
            red[a < 0 ? a + dims.length : a] = true;
        }
        Map<String, List<Double>> g = new LinkedHashMap<>();
        // Visiting kept coordinates in row-major order fixes the output order.
        for (int f = 0; f < x.length; f++) {
            int[] idx = new int[dims.length];
            int rem = f;
            for (int a = dims.length - 1; a >= 0; a--) {
                idx[a] = rem % dims[a];
                rem /= dims[a];
                if (red[a]) {
                    idx[a] = -1;
                }
            }
            g.computeIfAbsent(Arrays.toString(idx), k -> new ArrayList<>()).add(x[f]);
        }
        return new ArrayList<>(g.values());
    }

    static double[] refMean(List<List<Double>> groups) {
        return groups.stream().mapToDouble(l -> l.stream().mapToDouble(Double::doubleValue).sum() / l.size()).toArray();
    }

    static double[] refVar(List<List<Double>> groups, int correction) {
        return groups.stream().mapToDouble(l -> {
            double m = l.stream().mapToDouble(Double::doubleValue).sum() / l.size();
            double ss = l.stream().mapToDouble(v -> (v - m) * (v - m)).sum();
            return ss / (l.size() - correction);
        }).toArray();
    }

    static Shape expectedShape(int[] dims, int[] axes, boolean keepDim) {
        boolean[] red = new boolean[dims.length];
        for (int a : axes) {
            red[a < 0 ? a + dims.length : a] = true;
        }
        int[] out = keepDim ? dims.clone() : new int[0];
        for (int a = 0; a < dims.length; a++) {
            if (keepDim && red[a]) {
                out[a] = 1;
            } else if (!keepDim && !red[a]) {
                out = Arrays.copyOf(out, out.length + 1);
                out[out.length - 1] = dims[a];
            }
        }
        return Shape.of(out);
    }

    @ParameterizedTest
    @MethodSource("casesDtypesKeepDim")
    void meanAndVarMatchTheTextbookFormulas(int[] dims, int[] axes, DType dtype, boolean keepDim) {
        Tensor x = randn(new Rng(51), dtype, dims);
        List<List<Double>> g = groups(x.toDoubleArray(), dims, axes);
        String what = Arrays.toString(dims) + " axes " + Arrays.toString(axes) + " keepDim " + keepDim;
        Tensor mean = Ops.mean(x, axes, keepDim);
        assertEquals(expectedShape(dims, axes, keepDim), mean.shape(), what);
        assertClose(refMean(g), mean, "mean " + what);
        Tensor biased = Ops.var(x, axes, false, keepDim);
        assertEquals(expectedShape(dims, axes, keepDim), biased.shape(), what);
        assertClose(refVar(g, 0), biased, "biased var " + what);
        assertClose(refVar(g, 1), Ops.var(x, axes, true, keepDim), "unbiased var " + what);
        assertClose(g.stream().mapToDouble(l -> l.stream().mapToDouble(Double::doubleValue).sum()).toArray(),
                Ops.sum(x, axes, keepDim), "sum " + what);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gradcheckMeanVarAndSum(int[] dims, int[] axes) {
        Tensor x = leaf(new Rng(52), dims);
        Gradcheck.assertPasses(in -> Ops.mean(in[0], axes, false), x);
        Gradcheck.assertPasses(in -> Ops.mean(in[0], axes, true), x);
        Gradcheck.assertPasses(in -> Ops.var(in[0], axes, false, true), x);
        Gradcheck.assertPasses(in -> Ops.sum(in[0], axes, false), x);
        int n = 1;
        for (int a : axes) {
            n *= dims[a < 0 ? a + dims.length : a];
        }
        if (n > 1) {
            Gradcheck.assertPasses(in -> Ops.var(in[0], axes, true, false), x);
        }
    }

    @Test
    void wholeTensorMeanAndVarAreScalars() {
        Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 6, 8}, 2, 3);
        assertEquals(Shape.scalar(), Ops.mean(x).shape());
        assertEquals(4.0, Ops.mean(x).item(), 1e-15);
        // deviations -3 -2 -1 0 2 4: squares sum to 34
        assertEquals(34.0 / 6, Ops.var(x, false).item(), 1e-14);
        assertEquals(34.0 / 5, Ops.var(x, true).item(), 1e-14);
        Gradcheck.assertPasses(in -> Ops.var(in[0], true), leaf(new Rng(53), 3, 2));
        Gradcheck.assertPasses(in -> Ops.mean(in[0]), leaf(new Rng(54), 1, 4));
    }

    @Test
    void unbiasedVarianceOfOneElementIsNaNAsInPyTorch() {
        Tensor x = Tensor.of(new double[] {1.5, -2.0}, 2, 1).requiresGrad(true);
        Tensor v = Ops.var(x, new int[] {1}, true, false);
        assertTrue(Double.isNaN(v.get(0)) && Double.isNaN(v.get(1)), v.toString());
        assertEquals(0.0, Ops.var(x, new int[] {1}, false, false).get(0), 0.0);
        Ops.sum(v).backward();
        assertTrue(Double.isNaN(x.grad().get(0, 0)), x.grad().toString());
    }

    @Test
    void varianceIsExactForLargeOffsets() {
        // E[x^2] - E[x]^2 would lose every digit here; the two-pass formula keeps them.
        Tensor x = Tensor.of(new double[] {1e9 + 1, 1e9 + 2, 1e9 + 3}, 3);
        assertEquals(2.0 / 3, Ops.var(x, false).item(), 1e-6);
    }

    @Test
    void rejectsBadAxes() {
        Tensor x = randn(new Rng(55), DType.F64, 2, 3);
        assertRejects(() -> Ops.mean(x, new int[] {2}, false), "mean", "axis 2", "rank 2");
        assertRejects(() -> Ops.var(x, new int[] {0, -2}, true, false), "var", "repeated", "[0, -2]");
        assertRejects(() -> Ops.var(x, new int[] {-3}, false, false), "var", "axis -3");
    }
}
