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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PoolOpsTest {

    /** One pooling geometry. */
    record Case(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw) {
        int oh() {
            return (h + 2 * ph - kh) / sh + 1;
        }

        int ow() {
            return (w + 2 * pw - kw) / sw + 1;
        }

        int[] k() {
            return new int[] {kh, kw};
        }

        int[] s() {
            return new int[] {sh, sw};
        }

        int[] p() {
            return new int[] {ph, pw};
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(1, 1, 1, 1, 1, 1, 1, 1, 0, 0),
                new Case(2, 3, 4, 4, 2, 2, 2, 2, 0, 0),   // classic 2x2/2
                new Case(1, 2, 5, 5, 3, 3, 2, 2, 1, 1),   // padded, overlapping-free stride 2
                new Case(2, 1, 5, 6, 3, 2, 1, 1, 1, 1),   // overlapping windows
                new Case(1, 2, 7, 4, 3, 2, 2, 1, 0, 1),   // asymmetric
                new Case(3, 1, 1, 5, 1, 3, 1, 2, 0, 1));  // height 1
    }

    static Stream<Arguments> casesAndDtypes() {
        return cases().flatMap(c -> Stream.of(Arguments.of(c, DType.F64), Arguments.of(c, DType.F32)));
    }

    /** Pads explicitly with {@code fill}, then reduces each window by max or mean over kh*kw. */
    static double[] reference(Case k, double[] x, boolean max) {
        double fill = max ? Double.NEGATIVE_INFINITY : 0.0;
        int hp = k.h + 2 * k.ph;
        int wp = k.w + 2 * k.pw;
        double[] out = new double[k.n * k.c * k.oh() * k.ow()];
        int q = 0;
        for (int plane = 0; plane < k.n * k.c; plane++) {
            double[][] padded = new double[hp][wp];
            for (double[] row : padded) {
                java.util.Arrays.fill(row, fill);
            }
            for (int i = 0; i < k.h; i++) {
                for (int j = 0; j < k.w; j++) {
                    padded[i + k.ph][j + k.pw] = x[(plane * k.h + i) * k.w + j];
                }
            }
            for (int i = 0; i < k.oh(); i++) {
                for (int j = 0; j < k.ow(); j++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int u = 0; u < k.kh; u++) {
                        for (int v = 0; v < k.kw; v++) {
                            double val = padded[i * k.sh + u][j * k.sw + v];
                            acc = max ? Math.max(acc, val) : acc + val;
                        }
                    }
                    out[q++] = max ? acc : acc / (k.kh * k.kw);
                }
            }
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("casesAndDtypes")
    void maxPoolForward(Case k, DType dtype) {
        Tensor x = randn(new Rng(41), dtype, k.n, k.c, k.h, k.w);
        Tensor y = Ops.maxPool2d(x, k.k(), k.s(), k.p());
        assertEquals(Shape.of(k.n, k.c, k.oh(), k.ow()), y.shape());
        assertClose(reference(k, x.toDoubleArray(), true), y, "max_pool2d " + k);
    }

    @ParameterizedTest
    @MethodSource("casesAndDtypes")
    void avgPoolForwardCountsPadding(Case k, DType dtype) {
        Tensor x = randn(new Rng(42), dtype, k.n, k.c, k.h, k.w);
        Tensor y = Ops.avgPool2d(x, k.k(), k.s(), k.p());
        assertEquals(Shape.of(k.n, k.c, k.oh(), k.ow()), y.shape());
        assertClose(reference(k, x.toDoubleArray(), false), y, "avg_pool2d " + k);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void maxPoolGradcheck(Case k) {
        Gradcheck.assertPasses(in -> Ops.maxPool2d(in[0], k.k(), k.s(), k.p()), leaf(new Rng(43), k.n, k.c, k.h, k.w));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void avgPoolGradcheck(Case k) {
        Gradcheck.assertPasses(in -> Ops.avgPool2d(in[0], k.k(), k.s(), k.p()), leaf(new Rng(44), k.n, k.c, k.h, k.w));
    }

    @Test
    void maxPoolTiesSendTheGradientToTheFirstMaximum() {
        // One 2x2 window of equal values: only the top-left (first in row-major order) gets the gradient.
        Tensor x = Tensor.of(new double[] {3, 3, 3, 3}, 1, 1, 2, 2).requiresGrad(true);
        Ops.sum(Ops.maxPool2d(x, 2, 2, 0)).backward();
        assertClose(new double[] {1, 0, 0, 0}, x.grad(), "tie gradient");
    }

    @Test
    void maxPoolOverlappingWindowsAddTheirGradients() {
        // 1x3 input, windows of 2 with stride 1: the middle maximum wins both windows.
        Tensor x = Tensor.of(new double[] {1, 5, 2}, 1, 1, 1, 3).requiresGrad(true);
        Tensor y = Ops.maxPool2d(x, new int[] {1, 2}, new int[] {1, 1}, new int[] {0, 0});
        assertClose(new double[] {5, 5}, y, "overlapping max");
        Ops.sum(y).backward();
        assertClose(new double[] {0, 2, 0}, x.grad(), "overlapping gradient");
    }

    @Test
    void maxPoolPaddingNeverWinsForNegativeInputs() {
        Tensor x = Tensor.of(new double[] {-4, -3, -2, -1}, 1, 1, 2, 2);
        Tensor y = Ops.maxPool2d(x, 2, 1, 1);
        // 3x3 output; padding is -infinity, so each window's maximum is a real (negative) pixel.
        assertClose(new double[] {-4, -3, -3, -2, -1, -1, -2, -1, -1}, y, "padded max");
    }

    @Test
    void avgPoolDividesByTheFullWindowAtTheBorder() {
        Tensor x = Tensor.of(new double[] {4, 8}, 1, 1, 1, 2);
        Tensor y = Ops.avgPool2d(x, new int[] {1, 2}, new int[] {1, 1}, new int[] {0, 1});
        assertClose(new double[] {2, 6, 4}, y, "count_include_pad");
    }

    @Test
    void nullStrideMeansTheKernelSize() {
        Tensor x = randn(new Rng(45), DType.F64, 1, 1, 4, 6);
        assertEquals(Shape.of(1, 1, 2, 3), Ops.maxPool2d(x, new int[] {2}, null, new int[] {0}).shape());
    }

    @Test
    void rejectsBadInputs() {
        Tensor x = randn(new Rng(46), DType.F64, 1, 1, 4, 4);
        assertRejects(() -> Ops.maxPool2d(randn(new Rng(1), DType.F64, 4, 4), 2, 2, 0), "max_pool2d", "input",
                "rank 4", "[4, 4]");
        assertRejects(() -> Ops.avgPool2d(x, 0, 1, 0), "avg_pool2d", "kernel", "positive");
        assertRejects(() -> Ops.maxPool2d(x, new int[] {2}, new int[] {0, 1}, new int[] {0}), "max_pool2d", "stride",
                "[0, 1]");
        assertRejects(() -> Ops.maxPool2d(x, 2, 2, -1), "max_pool2d", "padding", "non-negative");
        assertRejects(() -> Ops.avgPool2d(x, 2, 2, 2), "avg_pool2d", "padding [2]", "half the kernel [2]");
        assertRejects(() -> Ops.maxPool2d(x, 5, 1, 0), "max_pool2d", "output size", "[1, 1, 4, 4]");
        assertRejects(() -> Ops.maxPool2d(x, new int[] {1, 2, 3}, null, new int[] {0}), "max_pool2d", "kernel",
                "1 or 2 values");
    }
}
