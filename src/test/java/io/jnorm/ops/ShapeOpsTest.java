package io.jnorm.ops;

import static io.jnorm.ops.OpTestSupport.assertClose;
import static io.jnorm.ops.OpTestSupport.assertRejects;
import static io.jnorm.ops.OpTestSupport.leaf;
import static io.jnorm.ops.OpTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ShapeOpsTest {

    private static Stream<Arguments> withDtypes(Stream<Arguments> cases) {
        return cases.flatMap(a -> Stream.of(DType.F64, DType.F32).map(d -> {
            Object[] args = Arrays.copyOf(a.get(), a.get().length + 1);
            args[args.length - 1] = d;
            return Arguments.of(args);
        }));
    }

    private static int[] unravel(int f, int[] dims) {
        int[] idx = new int[dims.length];
        for (int a = dims.length - 1; a >= 0; a--) {
            idx[a] = f % dims[a];
            f /= dims[a];
        }
        return idx;
    }

    // ---------------------------------------------------------------- expand

    static Stream<Arguments> expandCases() {
        return Stream.of(
                Arguments.of(new int[] {3, 1}, new int[] {2, 3, 4}),
                Arguments.of(new int[] {1}, new int[] {5}),
                Arguments.of(new int[] {2, 1, 3}, new int[] {2, 4, 3}),
                Arguments.of(new int[] {1, 1}, new int[] {3, 1, 2}),
                Arguments.of(new int[] {4}, new int[] {2, 4}));
    }

    static Stream<Arguments> expandCasesAndDtypes() {
        return withDtypes(expandCases());
    }

    @ParameterizedTest
    @MethodSource("expandCasesAndDtypes")
    void expandCopiesAlongBroadcastAxes(int[] from, int[] to, DType dtype) {
        Tensor x = randn(new Rng(61), dtype, from);
        double[] xv = x.toDoubleArray();
        int n = Arrays.stream(to).reduce(1, (p, q) -> p * q);
        double[] ref = new double[n];
        int shift = to.length - from.length;
        for (int f = 0; f < n; f++) {
            int[] idx = unravel(f, to);
            int src = 0;
            for (int a = 0; a < from.length; a++) {
                src = src * from[a] + (from[a] == 1 ? 0 : idx[a + shift]);
            }
            ref[f] = xv[src];
        }
        Tensor y = Ops.expand(x, Shape.of(to));
        assertEquals(Shape.of(to), y.shape());
        assertClose(ref, y, "expand " + Arrays.toString(from) + " -> " + Arrays.toString(to));
    }

    @ParameterizedTest
    @MethodSource("expandCases")
    void expandGradcheck(int[] from, int[] to) {
        Gradcheck.assertPasses(in -> Ops.expand(in[0], Shape.of(to)), leaf(new Rng(62), from));
    }

    @Test
    void expandRejectsIncompatibleShapes() {
        Tensor x = randn(new Rng(63), DType.F64, 2, 3);
        assertRejects(() -> Ops.expand(x, Shape.of(2, 4)), "expand", "[2, 3]", "[2, 4]");
        assertRejects(() -> Ops.expand(x, Shape.of(1, 3)), "expand", "[2, 3]", "cannot be expanded to [1, 3]");
        assertRejects(() -> Ops.expand(x, Shape.of(3)), "expand", "[2, 3]", "[3]");
    }

    // ---------------------------------------------------------------- permute

    static Stream<Arguments> permuteCases() {
        return Stream.of(
                Arguments.of(new int[] {2, 3, 4}, new int[] {2, 0, 1}),
                Arguments.of(new int[] {2, 3}, new int[] {1, 0}),
                Arguments.of(new int[] {1, 3, 1}, new int[] {2, 1, 0}),
                Arguments.of(new int[] {2, 3, 2, 3}, new int[] {0, 2, 3, 1}),
                Arguments.of(new int[] {2, 3}, new int[] {-1, 0}),
                Arguments.of(new int[] {4}, new int[] {0}));
    }

    static Stream<Arguments> permuteCasesAndDtypes() {
        return withDtypes(permuteCases());
    }

    @ParameterizedTest
    @MethodSource("permuteCasesAndDtypes")
    void permuteMovesEveryElement(int[] dims, int[] perm, DType dtype) {
        Tensor x = randn(new Rng(64), dtype, dims);
        double[] xv = x.toDoubleArray();
        int r = dims.length;
        int[] p = Arrays.stream(perm).map(a -> a < 0 ? a + r : a).toArray();
        int[] od = new int[r];
        for (int i = 0; i < r; i++) {
            od[i] = dims[p[i]];
        }
        double[] ref = new double[xv.length];
        for (int f = 0; f < ref.length; f++) {
            int[] oi = unravel(f, od);
            int[] xi = new int[r];
            for (int i = 0; i < r; i++) {
                xi[p[i]] = oi[i];
            }
            ref[f] = xv[OpTestSupport.flat(dims, xi)];
        }
        Tensor y = Ops.permute(x, perm);
        assertEquals(Shape.of(od), y.shape());
        assertClose(ref, y, "permute " + Arrays.toString(dims) + " by " + Arrays.toString(perm));
    }

    @ParameterizedTest
    @MethodSource("permuteCases")
    void permuteGradcheck(int[] dims, int[] perm) {
        Gradcheck.assertPasses(in -> Ops.permute(in[0], perm), leaf(new Rng(65), dims));
    }

    @Test
    void permuteRejectsNonPermutations() {
        Tensor x = randn(new Rng(66), DType.F64, 2, 3, 4);
        assertRejects(() -> Ops.permute(x, 0, 1), "permute", "[0, 1]", "rank 3", "[2, 3, 4]");
        assertRejects(() -> Ops.permute(x, 0, 1, -2), "permute", "repeated", "[0, 1, -2]");
        assertRejects(() -> Ops.permute(x, 0, 1, 3), "permute", "axis 3");
    }

    // ---------------------------------------------------------------- concat

    /** (shapes, axis). */
    static Stream<Arguments> concatCases() {
        return Stream.of(
                Arguments.of(new int[][] {{2, 3}, {1, 3}, {4, 3}}, 0),
                Arguments.of(new int[][] {{2, 3}, {2, 1}}, 1),
                Arguments.of(new int[][] {{2, 1, 3}, {2, 2, 3}, {2, 1, 3}}, -2),
                Arguments.of(new int[][] {{1}, {1}}, 0),
                Arguments.of(new int[][] {{2, 2}}, 1));
    }

    static Stream<Arguments> concatCasesAndDtypes() {
        return withDtypes(concatCases());
    }

    @ParameterizedTest
    @MethodSource("concatCasesAndDtypes")
    void concatPlacesBlocksInOrder(int[][] shapes, int axis, DType dtype) {
        Rng rng = new Rng(67);
        Tensor[] xs = Arrays.stream(shapes).map(s -> randn(rng, dtype, s)).toArray(Tensor[]::new);
        int r = shapes[0].length;
        int a = axis < 0 ? axis + r : axis;
        int[] od = shapes[0].clone();
        od[a] = Arrays.stream(shapes).mapToInt(s -> s[a]).sum();
        int n = Arrays.stream(od).reduce(1, (p, q) -> p * q);
        double[] ref = new double[n];
        for (int f = 0; f < n; f++) {
            int[] idx = unravel(f, od);
            int k = 0;
            while (idx[a] >= shapes[k][a]) {
                idx[a] -= shapes[k][a];
                k++;
            }
            ref[f] = xs[k].get(idx);
        }
        Tensor y = Ops.concat(axis, xs);
        assertEquals(Shape.of(od), y.shape());
        assertClose(ref, y, "concat axis " + axis);
        assertClose(ref, Ops.concat(List.of(xs), axis), "concat of a list");
    }

    @ParameterizedTest
    @MethodSource("concatCases")
    void concatGradcheck(int[][] shapes, int axis) {
        Rng rng = new Rng(68);
        Tensor[] xs = Arrays.stream(shapes).map(s -> leaf(rng, s)).toArray(Tensor[]::new);
        Gradcheck.assertPasses(in -> Ops.concat(axis, in), xs);
    }

    @Test
    void concatRejectsMismatches() {
        Rng rng = new Rng(69);
        Tensor a = randn(rng, DType.F64, 2, 3);
        assertRejects(() -> Ops.concat(0, a, randn(rng, DType.F64, 2, 4)), "concat", "tensor 1 [2, 4]", "[2, 3]",
                "axis 0");
        assertRejects(() -> Ops.concat(0, a, randn(rng, DType.F64, 2, 3, 1)), "concat", "tensor 1 [2, 3, 1]");
        assertRejects(() -> Ops.concat(0, a, randn(rng, DType.F32, 2, 3)), "concat", "dtype");
        assertRejects(() -> Ops.concat(2, a, a), "concat", "axis 2");
        assertRejects(() -> Ops.concat(0), "concat", "at least one");
    }

    // ---------------------------------------------------------------- slice

    /** (shape, axis, start, end, step). */
    static Stream<Arguments> sliceCases() {
        return Stream.of(
                Arguments.of(new int[] {5, 3}, 0, 1, 4, 1),
                Arguments.of(new int[] {5, 3}, 0, 0, 5, 2),
                Arguments.of(new int[] {2, 7}, 1, -5, -1, 2),
                Arguments.of(new int[] {4, 3, 2}, 1, 0, 100, 1),
                Arguments.of(new int[] {1, 6}, 1, 5, 6, 1),
                Arguments.of(new int[] {3, 4}, 0, -100, 2, 3),
                Arguments.of(new int[] {2, 1, 5}, -1, 1, 5, 3));
    }

    static Stream<Arguments> sliceCasesAndDtypes() {
        return withDtypes(sliceCases());
    }

    @ParameterizedTest
    @MethodSource("sliceCasesAndDtypes")
    void sliceFollowsPythonSlicing(int[] dims, int axis, int start, int end, int step, DType dtype) {
        Tensor x = randn(new Rng(70), dtype, dims);
        int r = dims.length;
        int a = axis < 0 ? axis + r : axis;
        int n = dims[a];
        // Python: range(*slice(start, end, step).indices(n)).
        int s = start < 0 ? Math.max(0, start + n) : Math.min(start, n);
        int e = end < 0 ? Math.max(0, end + n) : Math.min(end, n);
        int[] picked = java.util.stream.IntStream.iterate(s, i -> i < e, i -> i + step).toArray();
        int[] od = dims.clone();
        od[a] = picked.length;
        int total = Arrays.stream(od).reduce(1, (p, q) -> p * q);
        double[] ref = new double[total];
        for (int f = 0; f < total; f++) {
            int[] idx = unravel(f, od);
            idx[a] = picked[idx[a]];
            ref[f] = x.get(idx);
        }
        Tensor y = Ops.slice(x, axis, start, end, step);
        assertEquals(Shape.of(od), y.shape());
        assertClose(ref, y, "slice " + Arrays.toString(dims) + " axis " + axis + " [" + start + ":" + end + ":" + step
                + "]");
    }

    @ParameterizedTest
    @MethodSource("sliceCases")
    void sliceGradcheck(int[] dims, int axis, int start, int end, int step) {
        Gradcheck.assertPasses(in -> Ops.slice(in[0], axis, start, end, step), leaf(new Rng(71), dims));
    }

    @Test
    void sliceRejectsBadArguments() {
        Tensor x = randn(new Rng(72), DType.F64, 4, 3);
        assertRejects(() -> Ops.slice(x, 0, 0, 4, 0), "slice", "step", "positive", "0");
        assertRejects(() -> Ops.slice(x, 0, 3, 1, 1), "slice", "[3:1:1]", "empty", "[4, 3]");
        assertRejects(() -> Ops.slice(x, 0, 10, 20, 1), "slice", "empty");
        assertRejects(() -> Ops.slice(x, 2, 0, 1, 1), "slice", "axis 2", "rank 2");
    }

    @Test
    void sliceAndConcatAreInverse() {
        Tensor x = randn(new Rng(73), DType.F64, 3, 5);
        Tensor y = Ops.concat(1, Ops.slice(x, 1, 0, 2, 1), Ops.slice(x, 1, 2, 5, 1));
        assertClose(x.toDoubleArray(), y, "concat of the slices");
    }

    // ---------------------------------------------------------------- flatten

    @Test
    void flattenMergesTrailingAxesAndKeepsValues() {
        Tensor x = randn(new Rng(74), DType.F64, 2, 3, 4, 5);
        assertEquals(Shape.of(2, 60), Ops.flatten(x, 1).shape());
        assertEquals(Shape.of(120), Ops.flatten(x, 0).shape());
        assertEquals(Shape.of(2, 3, 20), Ops.flatten(x, -2).shape());
        assertEquals(x.shape(), Ops.flatten(x, 3).shape());
        assertClose(x.toDoubleArray(), Ops.flatten(x, 1), "flatten keeps row-major order");
        Gradcheck.assertPasses(in -> Ops.flatten(in[0], 1), leaf(new Rng(75), 2, 1, 3));
        assertRejects(() -> Ops.flatten(x, 4), "flatten", "axis 4", "rank 4");
    }
}
