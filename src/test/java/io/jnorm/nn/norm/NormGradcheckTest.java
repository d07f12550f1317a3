package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.autograd.Node;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Central-difference gradient checks in float64 of x, weight and bias for every functional norm
 * op, with batch statistics (gradient through the statistics) and with running statistics
 * (constants), over shape grids that include N = 1 and H·W = 1 where the op allows them.
 */
class NormGradcheckTest {

    private static Tensor rand(Rng rng, int... dims) {
        return Tensor.randn(rng, Shape.of(dims), DType.F64, Device.CPU).requiresGrad(true);
    }

    /** weight near 1 with spread, so a wrong per-channel index shows up. */
    private static Tensor affine(Rng rng, double center, int... dims) {
        return Tensor.rand(rng, center - 0.5, center + 0.5, Shape.of(dims), DType.F64, Device.CPU).requiresGrad(true);
    }

    private static Tensor constant(Rng rng, double low, double high, int c) {
        return Tensor.rand(rng, low, high, Shape.of(c), DType.F64, Device.CPU);
    }

    private static void check(String what, java.util.function.Function<Tensor[], Tensor> fn, Tensor... in) {
        Gradcheck.Result r = Gradcheck.check(fn, in);
        assertTrue(r.passed(), what + ": " + r.message());
    }

    /** The op must record exactly one node whose inputs are (x, weight, bias) themselves. */
    private static void assertOneNode(String op, Tensor y, Tensor x, Tensor w, Tensor b) {
        Node node = y.gradFn();
        assertEquals(op, node.op(), "one node named after the op");
        Tensor[] in = node.inputs();
        assertEquals(3, in.length);
        assertSame(x, in[0]);
        assertSame(w, in[1]);
        assertSame(b, in[2]);
    }

    static Stream<Arguments> bnShapes() {
        return Stream.of(Arguments.of(new int[] {2, 3, 2, 2}), Arguments.of(new int[] {1, 2, 3, 2}),
                Arguments.of(new int[] {3, 2, 1, 1}), Arguments.of(new int[] {4, 3}), Arguments.of(new int[] {2, 2, 5}));
    }

    @ParameterizedTest
    @MethodSource("bnShapes")
    void batchNormTrainAndEval(int[] shape) {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(11);
            int c = shape[1];
            Tensor x = rand(rng, shape);
            Tensor w = affine(rng, 1.0, c);
            Tensor b = affine(rng, 0.0, c);
            check("batchNorm train " + Arrays.toString(shape),
                    t -> NormOps.batchNorm(t[0], null, null, t[1], t[2], true, 0.1, 1e-5), x, w, b);
            Tensor rm = constant(rng, -0.5, 0.5, c);
            Tensor rv = constant(rng, 0.5, 2.0, c);
            check("batchNorm eval " + Arrays.toString(shape),
                    t -> NormOps.batchNorm(t[0], rm, rv, t[1], t[2], false, 0.1, 1e-5), x, w, b);
            assertOneNode("batchNorm", NormOps.batchNorm(x, null, null, w, b, true, 0.1, 1e-5), x, w, b);
        }
    }

    @ParameterizedTest
    @MethodSource("bnShapes")
    void batchNormWithoutAffineAndWithRunningUpdate(int[] shape) {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(12);
            int c = shape[1];
            Tensor x = rand(rng, shape);
            Tensor rm = constant(rng, -0.5, 0.5, c);
            Tensor rv = constant(rng, 0.5, 2.0, c);
            // Updating running statistics must not disturb the gradient of the training output.
            check("batchNorm train no affine " + Arrays.toString(shape),
                    t -> NormOps.batchNorm(t[0], rm, rv, null, null, true, 0.3, 1e-3), x);
        }
    }

    static Stream<Arguments> gnShapes() {
        return Stream.of(Arguments.of(new int[] {2, 6, 2, 2}, 3), Arguments.of(new int[] {1, 4, 3, 1}, 2),
                Arguments.of(new int[] {2, 4, 1, 1}, 2), Arguments.of(new int[] {2, 4, 3}, 1),
                Arguments.of(new int[] {1, 4, 2, 2}, 4), Arguments.of(new int[] {3, 4}, 2));
    }

    @ParameterizedTest
    @MethodSource("gnShapes")
    void groupNorm(int[] shape, int groups) {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(21);
            int c = shape[1];
            Tensor x = rand(rng, shape);
            Tensor w = affine(rng, 1.0, c);
            Tensor b = affine(rng, 0.0, c);
            check("groupNorm " + Arrays.toString(shape) + " G=" + groups,
                    t -> NormOps.groupNorm(t[0], groups, t[1], t[2], 1e-5), x, w, b);
            check("groupNorm no affine " + Arrays.toString(shape),
                    t -> NormOps.groupNorm(t[0], groups, null, null, 1e-5), x);
            assertOneNode("groupNorm", NormOps.groupNorm(x, groups, w, b, 1e-5), x, w, b);
        }
    }

    static Stream<Arguments> lnShapes() {
        return Stream.of(Arguments.of(new int[] {2, 3, 4}, new int[] {4}), Arguments.of(new int[] {2, 2, 2, 3}, new int[] {2, 2, 3}),
                Arguments.of(new int[] {1, 5}, new int[] {5}), Arguments.of(new int[] {3, 1}, new int[] {1}),
                Arguments.of(new int[] {2, 3}, new int[] {2, 3}));
    }

    @ParameterizedTest
    @MethodSource("lnShapes")
    void layerNorm(int[] shape, int[] ns) {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(31);
            Tensor x = rand(rng, shape);
            Tensor w = affine(rng, 1.0, ns);
            Tensor b = affine(rng, 0.0, ns);
            check("layerNorm " + Arrays.toString(shape) + " ns " + Arrays.toString(ns),
                    t -> NormOps.layerNorm(t[0], ns, t[1], t[2], 1e-5), x, w, b);
            assertOneNode("layerNorm", NormOps.layerNorm(x, ns, w, b, 1e-5), x, w, b);
        }
    }

    static Stream<Arguments> inShapes() {
        return Stream.of(Arguments.of(new int[] {2, 3, 2, 2}), Arguments.of(new int[] {1, 2, 3, 2}),
                Arguments.of(new int[] {2, 2, 5}), Arguments.of(new int[] {2, 2, 1, 2}));
    }

    @ParameterizedTest
    @MethodSource("inShapes")
    void instanceNormInputAndRunningStats(int[] shape) {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(41);
            int c = shape[1];
            Tensor x = rand(rng, shape);
            Tensor w = affine(rng, 1.0, c);
            Tensor b = affine(rng, 0.0, c);
            Tensor rm = constant(rng, -0.5, 0.5, c);
            Tensor rv = constant(rng, 0.5, 2.0, c);
            check("instanceNorm input stats " + Arrays.toString(shape),
                    t -> NormOps.instanceNorm(t[0], rm, rv, t[1], t[2], true, 0.1, 1e-5), x, w, b);
            check("instanceNorm running stats " + Arrays.toString(shape),
                    t -> NormOps.instanceNorm(t[0], rm, rv, t[1], t[2], false, 0.1, 1e-5), x, w, b);
            assertOneNode("instanceNorm", NormOps.instanceNorm(x, null, null, w, b, true, 0.1, 1e-5), x, w, b);
        }
    }

    @Test
    void runningStatisticsAllowOneValuePerChannelInEval() {
        // H·W = 1 and N = 1 is legal with constants for BN, and H·W = 1 for IN with running stats.
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(51);
            Tensor x = rand(rng, 1, 3, 1, 1);
            Tensor w = affine(rng, 1.0, 3);
            Tensor b = affine(rng, 0.0, 3);
            Tensor rm = constant(rng, -0.5, 0.5, 3);
            Tensor rv = constant(rng, 0.5, 2.0, 3);
            check("batchNorm eval N=1 HW=1", t -> NormOps.batchNorm(t[0], rm, rv, t[1], t[2], false, 0.1, 1e-5), x, w, b);
            check("instanceNorm running HW=1",
                    t -> NormOps.instanceNorm(t[0], rm, rv, t[1], t[2], false, 0.1, 1e-5), x, w, b);
        }
    }
}
