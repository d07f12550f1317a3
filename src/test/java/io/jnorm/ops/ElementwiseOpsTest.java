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
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ElementwiseOpsTest {

    /** A binary op under test with its textbook scalar definition. */
    record Binary(String name, BinaryOperator<Tensor> op, DoubleBinaryOperator ref) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** A unary op with its definition and the sampling range that keeps it smooth. */
    record Unary(String name, UnaryOperator<Tensor> op, DoubleUnaryOperator ref, double lo, double hi) {
        @Override
        public String toString() {
            return name;
        }
    }

    static final Binary[] BINARY = {
        new Binary("add", Ops::add, (x, y) -> x + y),
        new Binary("sub", Ops::sub, (x, y) -> x - y),
        new Binary("mul", Ops::mul, (x, y) -> x * y),
        new Binary("div", Ops::div, (x, y) -> x / y),
    };

    static final Unary[] UNARY = {
        new Unary("neg", Ops::neg, x -> -x, -2, 2),
        new Unary("exp", Ops::exp, Math::exp, -2, 2),
        new Unary("log", Ops::log, Math::log, 0.2, 3),
        new Unary("sqrt", Ops::sqrt, Math::sqrt, 0.2, 3),
        new Unary("relu", Ops::relu, x -> Math.max(0, x), 0.1, 2),
        new Unary("relu-negative", Ops::relu, x -> Math.max(0, x), -2, -0.1),
        new Unary("sigmoid", Ops::sigmoid, x -> 1 / (1 + Math.exp(-x)), -4, 4),
        new Unary("tanh", Ops::tanh, Math::tanh, -2, 2),
        new Unary("abs", Ops::abs, Math::abs, 0.1, 2),
        new Unary("pow2.5", x -> Ops.pow(x, 2.5), x -> Math.pow(x, 2.5), 0.2, 2),
        new Unary("pow-1", x -> Ops.pow(x, -1), x -> 1 / x, 0.5, 2),
    };

    static Stream<Arguments> shapePairs() {
        return Stream.of(
                Arguments.of(new int[] {2, 3}, new int[] {2, 3}),
                Arguments.of(new int[] {2, 3}, new int[] {3}),
                Arguments.of(new int[] {2, 1, 3}, new int[] {4, 1}),
                Arguments.of(new int[] {3, 1}, new int[] {1, 4}),
                Arguments.of(new int[] {1}, new int[] {1}),
                Arguments.of(new int[] {1}, new int[] {2, 2}),
                Arguments.of(new int[0], new int[] {2, 3}));
    }

    static Stream<Arguments> binaryCases() {
        return shapePairs().flatMap(p -> Arrays.stream(BINARY).map(b -> Arguments.of(b, p.get()[0], p.get()[1])));
    }

    static Stream<Arguments> binaryCasesAndDtypes() {
        return binaryCases().flatMap(a -> Stream.of(DType.F64, DType.F32)
                .map(d -> Arguments.of(a.get()[0], a.get()[1], a.get()[2], d)));
    }

    /** Values in [lo, hi) so that div never meets a denominator near zero. */
    static Tensor uniform(Rng rng, DType dtype, double lo, double hi, int... dims) {
        Shape s = dims.length == 0 ? Shape.scalar() : Shape.of(dims);
        return Tensor.rand(rng, lo, hi, s, dtype, Device.CPU);
    }

    static int[] broadcastDims(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            out[i] = Math.max(da, db);
        }
        return out;
    }

    /** The element of an operand that output index {@code idx} reads under broadcasting. */
    static int source(int[] dims, int[] idx) {
        int shift = idx.length - dims.length;
        int f = 0;
        for (int a = 0; a < dims.length; a++) {
            f = f * dims[a] + (dims[a] == 1 ? 0 : idx[a + shift]);
        }
        return f;
    }

    @ParameterizedTest
    @MethodSource("binaryCasesAndDtypes")
    void binaryForwardBroadcasts(Binary op, int[] ad, int[] bd, DType dtype) {
        Rng rng = new Rng(81);
        Tensor a = uniform(rng, dtype, 0.5, 2, ad);
        Tensor b = uniform(rng, dtype, 0.5, 2, bd);
        int[] od = broadcastDims(ad, bd);
        double[] av = a.toDoubleArray();
        double[] bv = b.toDoubleArray();
        int n = Arrays.stream(od).reduce(1, (p, q) -> p * q);
        double[] ref = new double[n];
        for (int f = 0; f < n; f++) {
            int[] idx = new int[od.length];
            int rem = f;
            for (int k = od.length - 1; k >= 0; k--) {
                idx[k] = rem % od[k];
                rem /= od[k];
            }
            ref[f] = op.ref.applyAsDouble(av[source(ad, idx)], bv[source(bd, idx)]);
        }
        Tensor y = op.op.apply(a, b);
        assertEquals(Shape.of(od), y.shape());
        assertClose(ref, y, op + " " + Arrays.toString(ad) + " " + Arrays.toString(bd));
    }

    @ParameterizedTest
    @MethodSource("binaryCases")
    void binaryGradcheck(Binary op, int[] ad, int[] bd) {
        Rng rng = new Rng(82);
        Tensor a = uniform(rng, DType.F64, 0.5, 2, ad).requiresGrad(true);
        Tensor b = uniform(rng, DType.F64, 0.5, 2, bd).requiresGrad(true);
        Gradcheck.assertPasses(in -> op.op.apply(in[0], in[1]), a, b);
    }

    static Stream<Arguments> unaryCases() {
        return Arrays.stream(UNARY).flatMap(u -> Stream.of(new int[] {2, 3}, new int[] {1}, new int[] {3, 1, 2})
                .map(d -> Arguments.of(u, d)));
    }

    static Stream<Arguments> unaryCasesAndDtypes() {
        return unaryCases().flatMap(a -> Stream.of(DType.F64, DType.F32)
                .map(d -> Arguments.of(a.get()[0], a.get()[1], d)));
    }

    @ParameterizedTest
    @MethodSource("unaryCasesAndDtypes")
    void unaryForward(Unary op, int[] dims, DType dtype) {
        Tensor x = uniform(new Rng(83), dtype, op.lo, op.hi, dims);
        double[] ref = Arrays.stream(x.toDoubleArray()).map(op.ref).toArray();
        assertClose(ref, op.op.apply(x), op + " " + Arrays.toString(dims));
    }

    @ParameterizedTest
    @MethodSource("unaryCases")
    void unaryGradcheck(Unary op, int[] dims) {
        Tensor x = uniform(new Rng(84), DType.F64, op.lo, op.hi, dims).requiresGrad(true);
        Gradcheck.assertPasses(in -> op.op.apply(in[0]), x);
    }

    @Test
    void compositeOfUnaryAndBinaryGradchecks() {
        Rng rng = new Rng(85);
        Gradcheck.assertPasses(in -> Ops.mul(Ops.tanh(in[0]), Ops.sigmoid(Ops.sub(in[1], in[0]))), leaf(rng, 2, 3),
                leaf(rng, 3));
    }

    @Test
    void rejectsBadInputs() {
        Rng rng = new Rng(86);
        assertRejects(() -> Ops.add(randn(rng, DType.F64, 2, 3), randn(rng, DType.F64, 4)), "add", "[2, 3]", "[4]",
                "broadcast");
        assertRejects(() -> Ops.mul(randn(rng, DType.F64, 2), randn(rng, DType.F32, 2)), "mul", "dtype", "F64",
                "F32");
        assertRejects(() -> Ops.pow(randn(rng, DType.F64, 2), Double.NaN), "pow", "exponent", "finite");
    }
}
