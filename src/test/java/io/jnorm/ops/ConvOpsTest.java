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

class ConvOpsTest {

    /** One convolution geometry of the grid. */
    record Case(int n, int c, int h, int w, int o, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                int groups, boolean bias) {
        int oh() {
            return (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
        }

        int ow() {
            return (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
        }

        Tensor run(Tensor x, Tensor wt, Tensor b) {
            return Ops.conv2d(x, wt, b, new int[] {sh, sw}, new int[] {ph, pw}, new int[] {dh, dw}, groups);
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case(1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, true),   // every size 1
                new Case(2, 3, 5, 4, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1, true),   // valid, no padding
                new Case(1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, false),  // same padding, no bias
                new Case(2, 2, 6, 5, 2, 3, 2, 2, 3, 1, 0, 1, 1, 1, true),   // asymmetric stride, kernel, pad
                new Case(1, 2, 7, 7, 2, 3, 3, 1, 2, 2, 1, 2, 3, 1, true),   // dilation
                new Case(2, 4, 4, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, true),   // two groups
                new Case(1, 4, 5, 3, 4, 1, 3, 1, 1, 0, 1, 1, 1, 4, true),   // depthwise
                new Case(3, 1, 1, 6, 2, 1, 3, 1, 2, 0, 1, 1, 1, 1, true));  // height 1
    }

    static Stream<Arguments> casesAndDtypes() {
        return cases().flatMap(c -> Stream.of(Arguments.of(c, DType.F64), Arguments.of(c, DType.F32)));
    }

    /**
     * The textbook definition written independently of the kernel: pad the input explicitly,
     * then y[n,o,i,j] = b[o] + sum over the group's channels and taps of xpad * w.
     */
    static double[] reference(Case k, double[] x, double[] w, double[] b) {
        int hp = k.h + 2 * k.ph;
        int wp = k.w + 2 * k.pw;
        double[][][][] xp = new double[k.n][k.c][hp][wp];
        for (int n = 0; n < k.n; n++) {
            for (int c = 0; c < k.c; c++) {
                for (int i = 0; i < k.h; i++) {
                    for (int j = 0; j < k.w; j++) {
                        xp[n][c][i + k.ph][j + k.pw] = x[((n * k.c + c) * k.h + i) * k.w + j];
                    }
                }
            }
        }
        int cg = k.c / k.groups;
        int og = k.o / k.groups;
        double[] y = new double[k.n * k.o * k.oh() * k.ow()];
        int p = 0;
        for (int n = 0; n < k.n; n++) {
            for (int o = 0; o < k.o; o++) {
                int group = o / og;
                for (int i = 0; i < k.oh(); i++) {
                    for (int j = 0; j < k.ow(); j++) {
                        double s = b == null ? 0 : b[o];
                        for (int q = 0; q < cg; q++) {
                            for (int u = 0; u < k.kh; u++) {
                                for (int v = 0; v < k.kw; v++) {
                                    double xv = xp[n][group * cg + q][i * k.sh + u * k.dh][j * k.sw + v * k.dw];
                                    s += xv * w[((o * cg + q) * k.kh + u) * k.kw + v];
                                }
                            }
                        }
                        y[p++] = s;
                    }
                }
            }
        }
        return y;
    }

    @ParameterizedTest
    @MethodSource("casesAndDtypes")
    void forwardMatchesTheDirectFormula(Case k, DType dtype) {
        Rng rng = new Rng(11);
        Tensor x = randn(rng, dtype, k.n, k.c, k.h, k.w);
        Tensor w = randn(rng, dtype, k.o, k.c / k.groups, k.kh, k.kw);
        Tensor b = k.bias ? randn(rng, dtype, k.o) : null;
        Tensor y = k.run(x, w, b);
        assertEquals(Shape.of(k.n, k.o, k.oh(), k.ow()), y.shape());
        assertClose(reference(k, x.toDoubleArray(), w.toDoubleArray(), b == null ? null : b.toDoubleArray()), y,
                "conv2d " + k);
    }

    @ParameterizedTest
    @MethodSource("cases")
    void gradcheckInputWeightAndBias(Case k) {
        Rng rng = new Rng(12);
        Tensor x = leaf(rng, k.n, k.c, k.h, k.w);
        Tensor w = leaf(rng, k.o, k.c / k.groups, k.kh, k.kw);
        if (k.bias) {
            Gradcheck.assertPasses(in -> k.run(in[0], in[1], in[2]), x, w, leaf(rng, k.o));
        } else {
            Gradcheck.assertPasses(in -> k.run(in[0], in[1], null), x, w);
        }
    }

    @Test
    void gradientOfOnlyTheWeightLeavesTheInputAlone() {
        Rng rng = new Rng(13);
        Tensor x = randn(rng, DType.F64, 1, 2, 4, 4);
        Tensor w = leaf(rng, 3, 2, 3, 3);
        Ops.sum(Ops.conv2d(x, w, null, 1, 1)).backward();
        assertEquals(w.shape(), w.grad().shape());
        assertEquals(null, x.grad());
    }

    @Test
    void rejectsBadRanks() {
        Rng rng = new Rng(1);
        Tensor w = randn(rng, DType.F64, 2, 3, 3, 3);
        assertRejects(() -> Ops.conv2d(randn(rng, DType.F64, 3, 5, 5), w, null, 1, 0), "conv2d", "input",
                "rank 4", "[3, 5, 5]");
        assertRejects(() -> Ops.conv2d(randn(rng, DType.F64, 1, 3, 5, 5), randn(rng, DType.F64, 2, 3, 3), null, 1,
                0), "conv2d", "weight", "rank 4", "[2, 3, 3]");
    }

    @Test
    void rejectsChannelAndGroupMismatches() {
        Rng rng = new Rng(2);
        Tensor x = randn(rng, DType.F64, 1, 4, 5, 5);
        assertRejects(() -> Ops.conv2d(x, randn(rng, DType.F64, 2, 3, 3, 3), null, 1, 0), "conv2d", "[2, 3, 3, 3]",
                "[1, 4, 5, 5]", "input channels");
        assertRejects(() -> Ops.conv2d(x, randn(rng, DType.F64, 3, 1, 1, 1), null, new int[] {1}, new int[] {0},
                new int[] {1}, 3), "conv2d", "input channels 4", "groups 3");
        assertRejects(() -> Ops.conv2d(x, randn(rng, DType.F64, 3, 2, 1, 1), null, new int[] {1}, new int[] {0},
                new int[] {1}, 2), "conv2d", "output channels 3", "groups 2");
        assertRejects(() -> Ops.conv2d(x, randn(rng, DType.F64, 2, 2, 1, 1), null, new int[] {1}, new int[] {0},
                new int[] {1}, 0), "conv2d", "groups", "positive", "0");
        assertRejects(() -> Ops.conv2d(x, randn(rng, DType.F64, 2, 4, 1, 1), randn(rng, DType.F64, 3), 1, 0),
                "conv2d", "bias", "[2]", "[3]");
    }

    @Test
    void rejectsBadGeometry() {
        Rng rng = new Rng(3);
        Tensor x = randn(rng, DType.F64, 1, 1, 4, 4);
        Tensor w = randn(rng, DType.F64, 1, 1, 3, 3);
        int[] one = {1};
        int[] zero = {0};
        assertRejects(() -> Ops.conv2d(x, w, null, new int[] {1, 0}, zero, one, 1), "conv2d", "stride", "[1, 0]");
        assertRejects(() -> Ops.conv2d(x, w, null, one, zero, new int[] {-1}, 1), "conv2d", "dilation", "[-1]");
        assertRejects(() -> Ops.conv2d(x, w, null, one, new int[] {0, -2}, one, 1), "conv2d", "padding",
                "[0, -2]");
        assertRejects(() -> Ops.conv2d(x, w, null, new int[] {1, 2, 3}, zero, one, 1), "conv2d", "stride",
                "1 or 2 values");
        assertRejects(() -> Ops.conv2d(x, randn(rng, DType.F64, 1, 1, 5, 3), null, 1, 0), "conv2d",
                "output size", "[1, 1, 4, 4]", "[1, 1, 5, 3]");
        assertRejects(() -> Ops.conv2d(x, w, null, one, zero, new int[] {2}, 1), "conv2d", "output size",
                "dilation [2, 2]");
    }

    @Test
    void rejectsMixedDtypes() {
        Rng rng = new Rng(4);
        assertRejects(() -> Ops.conv2d(randn(rng, DType.F32, 1, 1, 4, 4), randn(rng, DType.F64, 1, 1, 3, 3), null,
                1, 0), "conv2d", "dtype", "F32", "F64");
    }
}
