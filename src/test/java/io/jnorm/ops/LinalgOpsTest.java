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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LinalgOpsTest {

    static Stream<Arguments> matmulShapes() {
        return Stream.of(
                Arguments.of(new int[] {2, 3}, new int[] {3, 4}),
                Arguments.of(new int[] {1, 1}, new int[] {1, 1}),
                Arguments.of(new int[] {4, 1}, new int[] {1, 3}),
                Arguments.of(new int[] {2, 2, 3}, new int[] {3, 4}),       // b broadcast over the batch
                Arguments.of(new int[] {3, 4}, new int[] {2, 4, 5}),       // a broadcast over the batch
                Arguments.of(new int[] {2, 1, 3, 2}, new int[] {1, 3, 2, 2}), // both broadcast
                Arguments.of(new int[] {1, 3, 2}, new int[] {4, 2, 3}));
    }

    static Stream<Arguments> matmulShapesAndDtypes() {
        return matmulShapes().flatMap(a -> Stream.of(DType.F64, DType.F32)
                .map(d -> Arguments.of(a.get()[0], a.get()[1], d)));
    }

    /** Textbook batched product: each output batch index reads index 0 on a's or b's size-1 axes. */
    static double[] referenceMatmul(double[] a, int[] ad, double[] b, int[] bd) {
        int r = Math.max(ad.length, bd.length);
        int[] outBatch = new int[r - 2];
        for (int i = 0; i < r - 2; i++) {
            outBatch[i] = Math.max(batchDim(ad, r, i), batchDim(bd, r, i));
        }
        int m = ad[ad.length - 2];
        int k = ad[ad.length - 1];
        int n = bd[bd.length - 1];
        int batches = Arrays.stream(outBatch).reduce(1, (x, y) -> x * y);
        double[] out = new double[batches * m * n];
        for (int t = 0; t < batches; t++) {
            int[] idx = new int[r - 2];
            int rem = t;
            for (int i = r - 3; i >= 0; i--) {
                idx[i] = rem % outBatch[i];
                rem /= outBatch[i];
            }
            int aMat = matrixIndex(ad, r, idx);
            int bMat = matrixIndex(bd, r, idx);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += a[aMat * m * k + i * k + p] * b[bMat * k * n + p * n + j];
                    }
                    out[(t * m + i) * n + j] = s;
                }
            }
        }
        return out;
    }

    private static int batchDim(int[] d, int r, int i) {
        int j = i - (r - d.length);
        return j < 0 ? 1 : d[j];
    }

    private static int matrixIndex(int[] d, int r, int[] outIdx) {
        int flat = 0;
        for (int i = 0; i < r - 2; i++) {
            int size = batchDim(d, r, i);
            flat = flat * size + (size == 1 ? 0 : outIdx[i]);
        }
        return flat;
    }

    @ParameterizedTest
    @MethodSource("matmulShapesAndDtypes")
    void matmulForwardMatchesTheTripleLoop(int[] ad, int[] bd, DType dtype) {
        Rng rng = new Rng(21);
        Tensor a = randn(rng, dtype, ad);
        Tensor b = randn(rng, dtype, bd);
        Tensor y = Ops.matmul(a, b);
        double[] ref = referenceMatmul(a.toDoubleArray(), ad, b.toDoubleArray(), bd);
        assertEquals(ref.length, y.numel());
        assertEquals(ad[ad.length - 2], y.dim(-2));
        assertEquals(bd[bd.length - 1], y.dim(-1));
        assertClose(ref, y, "matmul " + Arrays.toString(ad) + " @ " + Arrays.toString(bd));
        assertClose(ref, a.matmul(b), "Tensor.matmul");
    }

    @ParameterizedTest
    @MethodSource("matmulShapes")
    void matmulGradcheck(int[] ad, int[] bd) {
        Rng rng = new Rng(22);
        Gradcheck.assertPasses(in -> Ops.matmul(in[0], in[1]), leaf(rng, ad), leaf(rng, bd));
    }

    @Test
    void matmulRejectsVectorsMismatchesAndBadBatches() {
        Rng rng = new Rng(23);
        assertRejects(() -> Ops.matmul(randn(rng, DType.F64, 3), randn(rng, DType.F64, 3, 2)), "matmul", "rank >= 2",
                "[3]", "reshape");
        assertRejects(() -> Ops.matmul(randn(rng, DType.F64, 2, 3), randn(rng, DType.F64, 4, 2)), "matmul",
                "inner dimensions", "[2, 3]", "[4, 2]");
        assertRejects(() -> Ops.matmul(randn(rng, DType.F64, 2, 2, 3), randn(rng, DType.F64, 3, 3, 1)), "matmul",
                "broadcast", "[2]", "[3]");
        assertRejects(() -> Ops.matmul(randn(rng, DType.F32, 2, 2), randn(rng, DType.F64, 2, 2)), "matmul",
                "dtype");
    }

    /** (input shape, out features, with bias). */
    static Stream<Arguments> linearCases() {
        return Stream.of(
                Arguments.of(new int[] {3, 4}, 5, true),
                Arguments.of(new int[] {4}, 2, true),
                Arguments.of(new int[] {2, 3, 4}, 3, true),
                Arguments.of(new int[] {1, 1}, 1, true),
                Arguments.of(new int[] {3, 2}, 4, false));
    }

    static Stream<Arguments> linearCasesAndDtypes() {
        return linearCases().flatMap(a -> Stream.of(DType.F64, DType.F32)
                .map(d -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], d)));
    }

    @ParameterizedTest
    @MethodSource("linearCasesAndDtypes")
    void linearForwardIsXWTransposedPlusB(int[] xd, int out, boolean bias, DType dtype) {
        Rng rng = new Rng(24);
        int in = xd[xd.length - 1];
        Tensor x = randn(rng, dtype, xd);
        Tensor w = randn(rng, dtype, out, in);
        Tensor b = bias ? randn(rng, dtype, out) : null;
        Tensor y = Ops.linear(x, w, b);
        int[] yd = xd.clone();
        yd[yd.length - 1] = out;
        assertEquals(Shape.of(yd), y.shape());
        double[] xv = x.toDoubleArray();
        double[] wv = w.toDoubleArray();
        int rows = xv.length / in;
        double[] ref = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias ? b.get(o) : 0;
                for (int i = 0; i < in; i++) {
                    s += xv[r * in + i] * wv[o * in + i];
                }
                ref[r * out + o] = s;
            }
        }
        assertClose(ref, y, "linear " + Arrays.toString(xd));
    }

    @ParameterizedTest
    @MethodSource("linearCases")
    void linearGradcheck(int[] xd, int out, boolean bias) {
        Rng rng = new Rng(25);
        Tensor x = leaf(rng, xd);
        Tensor w = leaf(rng, out, xd[xd.length - 1]);
        if (bias) {
            Gradcheck.assertPasses(in -> Ops.linear(in[0], in[1], in[2]), x, w, leaf(rng, out));
        } else {
            Gradcheck.assertPasses(in -> Ops.linear(in[0], in[1], null), x, w);
        }
    }

    @Test
    void linearRejectsBadShapes() {
        Rng rng = new Rng(26);
        Tensor x = randn(rng, DType.F64, 2, 3);
        assertRejects(() -> Ops.linear(x, randn(rng, DType.F64, 4, 5), null), "linear", "[2, 3]", "[4, 5]", "3",
                "5");
        assertRejects(() -> Ops.linear(x, randn(rng, DType.F64, 3), null), "linear", "weight", "rank 2");
        assertRejects(() -> Ops.linear(x, randn(rng, DType.F64, 4, 3), randn(rng, DType.F64, 3)), "linear", "bias",
                "[4]", "[3]");
        assertRejects(() -> Ops.linear(Tensor.scalar(1, DType.F64, x.device()), randn(rng, DType.F64, 4, 3), null),
                "linear", "rank >= 1");
    }
}
