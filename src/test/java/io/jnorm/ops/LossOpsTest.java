package io.jnorm.ops;

import static io.jnorm.ops.OpTestSupport.assertClose;
import static io.jnorm.ops.OpTestSupport.assertRejects;
import static io.jnorm.ops.OpTestSupport.leaf;
import static io.jnorm.ops.OpTestSupport.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LossOpsTest {

    static Stream<Arguments> softmaxCases() {
        return Stream.of(
                Arguments.of(new int[] {3, 5}, 1),
                Arguments.of(new int[] {3, 5}, 0),
                Arguments.of(new int[] {2, 3, 4}, 1),
                Arguments.of(new int[] {2, 3, 4}, -1),
                Arguments.of(new int[] {4, 1}, 1),   // a single class: log-probability 0
                Arguments.of(new int[] {1}, 0));
    }

    static Stream<Arguments> softmaxCasesAndDtypes() {
        return softmaxCases().flatMap(a -> Stream.of(DType.F64, DType.F32)
                .map(d -> Arguments.of(a.get()[0], a.get()[1], d)));
    }

    /** log(exp(x_i) / sum_j exp(x_j)) written out directly (inputs are small, so no overflow). */
    static double[] referenceLogSoftmax(double[] x, int[] d, int axis) {
        int ax = axis < 0 ? axis + d.length : axis;
        int inner = 1;
        for (int i = ax + 1; i < d.length; i++) {
            inner *= d[i];
        }
        int k = d[ax];
        double[] out = new double[x.length];
        for (int p = 0; p < x.length; p++) {
            int start = p - ((p / inner) % k) * inner;
            double s = 0;
            for (int j = 0; j < k; j++) {
                s += Math.exp(x[start + j * inner]);
            }
            out[p] = Math.log(Math.exp(x[p]) / s);
        }
        return out;
    }

    @ParameterizedTest
    @MethodSource("softmaxCasesAndDtypes")
    void logSoftmaxForward(int[] d, int axis, DType dtype) {
        Tensor x = randn(new Rng(31), dtype, d);
        assertClose(referenceLogSoftmax(x.toDoubleArray(), d, axis), Ops.logSoftmax(x, axis),
                "log_softmax " + Arrays.toString(d) + " axis " + axis);
    }

    @ParameterizedTest
    @MethodSource("softmaxCases")
    void logSoftmaxGradcheck(int[] d, int axis) {
        Gradcheck.assertPasses(in -> Ops.logSoftmax(in[0], axis), leaf(new Rng(32), d));
    }

    @Test
    void logSoftmaxIsStableForLargeLogits() {
        Tensor x = Tensor.of(new double[] {1000, 1001, -1000}, 1, 3);
        double[] y = Ops.logSoftmax(x, 1).toDoubleArray();
        double lse = 1001 + Math.log(Math.exp(-1) + 1 + Math.exp(-2001));
        assertClose(new double[] {1000 - lse, 1001 - lse, -1000 - lse}, y, 1e-12, 1e-12, "large logits");
    }

    @Test
    void logSoftmaxRejectsBadAxes() {
        assertRejects(() -> Ops.logSoftmax(randn(new Rng(1), DType.F64, 2, 3), 2), "log_softmax", "axis 2",
                "rank 2");
        assertRejects(() -> Ops.logSoftmax(Tensor.scalar(1, DType.F64, Device.CPU), 0), "log_softmax", "rank >= 1");
    }

    static Stream<Arguments> crossEntropyCases() {
        return Stream.of(
                Arguments.of(4, 3, new int[] {0, 2, 1, 2}),
                Arguments.of(1, 1, new int[] {0}),
                Arguments.of(1, 5, new int[] {4}),
                Arguments.of(3, 2, new int[] {1, 1, 0}));
    }

    static Stream<Arguments> crossEntropyCasesAndDtypes() {
        return crossEntropyCases().flatMap(a -> Stream.of(DType.F64, DType.F32)
                .map(d -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], d)));
    }

    @ParameterizedTest
    @MethodSource("crossEntropyCasesAndDtypes")
    void crossEntropyIsTheMeanNegativeLogLikelihood(int n, int k, int[] targets, DType dtype) {
        Tensor logits = randn(new Rng(33), dtype, n, k);
        double[] z = logits.toDoubleArray();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double denom = 0;
            for (int j = 0; j < k; j++) {
                denom += Math.exp(z[i * k + j]);
            }
            sum += -Math.log(Math.exp(z[i * k + targets[i]]) / denom);
        }
        Tensor loss = Ops.crossEntropy(logits, targets);
        assertEquals(Shape.scalar(), loss.shape());
        assertClose(new double[] {sum / n}, loss, "cross_entropy");
        double[] asTensor = Arrays.stream(targets).asDoubleStream().toArray();
        Tensor t = Tensor.fromDoubles(asTensor, Shape.of(n), DType.F32, Device.CPU);
        assertClose(new double[] {sum / n}, Ops.crossEntropy(logits, t), "cross_entropy with tensor targets");
    }

    @ParameterizedTest
    @MethodSource("crossEntropyCases")
    void crossEntropyGradcheck(int n, int k, int[] targets) {
        Gradcheck.assertPasses(in -> Ops.crossEntropy(in[0], targets), leaf(new Rng(34), n, k));
    }

    @Test
    void crossEntropyGradientIsSoftmaxMinusOneHotOverN() {
        Tensor logits = leaf(new Rng(35), 2, 3);
        Ops.crossEntropy(logits, new int[] {2, 0}).backward();
        double[] z = logits.toDoubleArray();
        double[] expected = new double[6];
        int[] t = {2, 0};
        for (int i = 0; i < 2; i++) {
            double s = Math.exp(z[i * 3]) + Math.exp(z[i * 3 + 1]) + Math.exp(z[i * 3 + 2]);
            for (int j = 0; j < 3; j++) {
                expected[i * 3 + j] = (Math.exp(z[i * 3 + j]) / s - (j == t[i] ? 1 : 0)) / 2;
            }
        }
        assertClose(expected, logits.grad(), "d cross_entropy / d logits");
    }

    @Test
    void crossEntropyRejectsOutOfRangeAndNonIntegerTargets() {
        Tensor logits = randn(new Rng(36), DType.F64, 3, 4);
        assertRejects(() -> Ops.crossEntropy(logits, new int[] {0, 4, 1}), "cross_entropy", "index 1", "value 4",
                "[0, 4)", "[3, 4]");
        assertRejects(() -> Ops.crossEntropy(logits, new int[] {0, 1, -1}), "cross_entropy", "index 2",
                "value -1");
        assertRejects(() -> Ops.crossEntropy(logits, Tensor.of(new double[] {0, 1.5, 2}, 3)), "cross_entropy",
                "index 1", "1.5", "integer");
        assertRejects(() -> Ops.crossEntropy(logits, new int[] {0, 1}), "cross_entropy", "2 targets", "[3, 4]");
        assertRejects(() -> Ops.crossEntropy(randn(new Rng(1), DType.F64, 3), new int[] {0, 1, 2}),
                "cross_entropy", "logits", "rank 2", "[3]");
        assertRejects(() -> Ops.crossEntropy(logits, Tensor.of(new double[] {0, 1, 2, 0}, 4)), "cross_entropy",
                "targets [4]", "[3, 4]");
    }
}
