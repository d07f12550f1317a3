package io.jnorm.cli;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * A list of gradient checks, one {@link Case} per op and input geometry, shared by
 * {@code jnorm gradcheck} and the tests. {@link #standard()} is the catalogue of every
 * differentiable op in {@link Ops} and of every normalization op in {@code io.jnorm.ops.norm}
 * ({@link NormGradcheckCases}); an op added there gets its cases here.
 */
public final class GradcheckSuite {

    /** Where an input's random values come from, so that each op is checked where it is smooth. */
    public enum Domain {
        /** Standard normal. */
        NORMAL,
        /** Uniform in [0.5, 2): for log, sqrt, fractional powers and divisors. */
        POSITIVE,
        /** |x| uniform in [0.2, 1.2) with a random sign: away from the kinks of relu and abs. */
        AWAY_FROM_ZERO
    }

    /** One input of a case: its shape, value domain and whether its gradient is checked. */
    public record Input(int[] dims, Domain domain, boolean requiresGrad) {
        public Input {
            dims = dims.clone();
        }

        /** A checked input with standard normal values. */
        public static Input of(int... dims) {
            return new Input(dims, Domain.NORMAL, true);
        }

        public Input in(Domain d) {
            return new Input(dims, d, requiresGrad);
        }

        /** The same input, used as a constant (its gradient is not checked). */
        public Input constant() {
            return new Input(dims, domain, false);
        }

        Shape shape() {
            return dims.length == 0 ? Shape.scalar() : Shape.of(dims);
        }

        @Override
        public String toString() {
            return Arrays.toString(dims).replace(" ", "");
        }
    }

    /**
     * One gradient check.
     *
     * @param op          the op's name as the CLI selects it (several cases may share one)
     * @param description the input shapes and settings, e.g. {@code [2,3]+[3]}
     * @param inputs      the inputs, made afresh with seeded values for every run
     * @param fn          the function under test; it must not change its inputs
     */
    public record Case(String op, String description, List<Input> inputs, Function<Tensor[], Tensor> fn) {
        public Case {
            inputs = List.copyOf(inputs);
        }

        /**
         * A case whose description is {@code pattern} with each {@code %s} replaced by the next
         * input's shape, so the printed shapes are always the ones checked.
         */
        public static Case of(String op, String pattern, Function<Tensor[], Tensor> fn, Input... inputs) {
            Object[] shapes = Arrays.stream(inputs).map(Input::toString).toArray();
            return new Case(op, String.format(java.util.Locale.ROOT, pattern, shapes), List.of(inputs), fn);
        }

        long seed() {
            return (op + " " + description).hashCode();
        }

        @Override
        public String toString() {
            return op + " " + description;
        }
    }

    /**
     * The result of one case.
     *
     * @param maxAbsError largest |analytic - numeric| over every checked element (NaN when the op threw)
     * @param message     Gradcheck's description of the worst failure, or of the exception
     */
    public record Outcome(Case testCase, boolean passed, double maxAbsError, String message, long millis) {
    }

    private final List<Case> cases;

    public GradcheckSuite(List<Case> cases) {
        this.cases = List.copyOf(cases);
    }

    /**
     * Every op and every normalization op in each of its modes, with shapes small enough that the
     * whole suite runs in seconds on the CPU.
     */
    public static GradcheckSuite standard() {
        List<Case> c = new ArrayList<>();
        Input pos23 = Input.of(2, 3).in(Domain.POSITIVE);

        // Elementwise, with broadcasting on one side of each binary op.
        c.add(Case.of("add", "%s+%s", x -> Ops.add(x[0], x[1]), Input.of(2, 3), Input.of(3)));
        c.add(Case.of("sub", "%s-%s", x -> Ops.sub(x[0], x[1]), Input.of(2, 3), Input.of(2, 1)));
        c.add(Case.of("mul", "%s*%s", x -> Ops.mul(x[0], x[1]), Input.of(2, 1, 4), Input.of(3, 1)));
        c.add(Case.of("div", "%s/%s", x -> Ops.div(x[0], x[1]), Input.of(2, 3), Input.of(3).in(Domain.POSITIVE)));
        c.add(Case.of("neg", "%s", x -> Ops.neg(x[0]), Input.of(2, 3)));
        c.add(Case.of("exp", "%s", x -> Ops.exp(x[0]), Input.of(2, 3)));
        c.add(Case.of("log", "%s", x -> Ops.log(x[0]), pos23));
        c.add(Case.of("sqrt", "%s", x -> Ops.sqrt(x[0]), pos23));
        c.add(Case.of("relu", "%s", x -> Ops.relu(x[0]), Input.of(2, 3).in(Domain.AWAY_FROM_ZERO)));
        c.add(Case.of("sigmoid", "%s", x -> Ops.sigmoid(x[0]), Input.of(2, 3)));
        c.add(Case.of("tanh", "%s", x -> Ops.tanh(x[0]), Input.of(2, 3)));
        c.add(Case.of("abs", "%s", x -> Ops.abs(x[0]), Input.of(2, 3).in(Domain.AWAY_FROM_ZERO)));
        c.add(Case.of("pow", "%s^2.5", x -> Ops.pow(x[0], 2.5), pos23));
        c.add(Case.of("pow", "%s^-1", x -> Ops.pow(x[0], -1), pos23));

        // Reductions.
        c.add(Case.of("sum", "%s all", x -> Ops.sum(x[0]), Input.of(2, 3, 4)));
        c.add(Case.of("sum", "%s axes=[1] keepDim", x -> Ops.sum(x[0], new int[] {1}, true), Input.of(2, 3, 4)));
        c.add(Case.of("sum", "%s axes=[0,-1]", x -> Ops.sum(x[0], new int[] {0, -1}, false), Input.of(2, 3, 4)));
        c.add(Case.of("sum_to", "%s->[3,1]", x -> Ops.sumTo(x[0], Shape.of(3, 1)), Input.of(2, 3, 4)));
        c.add(Case.of("mean", "%s all", x -> Ops.mean(x[0]), Input.of(2, 3, 4)));
        c.add(Case.of("mean", "%s axes=[0,2,3] keepDim", x -> Ops.mean(x[0], new int[] {0, 2, 3}, true),
                Input.of(2, 3, 2, 2)));
        c.add(Case.of("var", "%s all unbiased", x -> Ops.var(x[0], true), Input.of(2, 3, 4)));
        c.add(Case.of("var", "%s axes=[0,2,3] biased keepDim", x -> Ops.var(x[0], new int[] {0, 2, 3}, false, true),
                Input.of(2, 3, 2, 2)));

        // Shapes.
        c.add(Case.of("reshape", "%s->[4,6]", x -> Ops.reshape(x[0], 4, 6), Input.of(2, 3, 4)));
        c.add(Case.of("flatten", "%s from 1", x -> Ops.flatten(x[0], 1), Input.of(2, 3, 2, 2)));
        c.add(Case.of("expand", "%s->[2,3,4]", x -> Ops.expand(x[0], Shape.of(2, 3, 4)), Input.of(3, 1)));
        c.add(Case.of("permute", "%s perm=[0,2,3,1]", x -> Ops.permute(x[0], 0, 2, 3, 1), Input.of(2, 3, 2, 4)));
        c.add(Case.of("concat", "%s|%s axis=1", x -> Ops.concat(1, x[0], x[1]), Input.of(2, 3, 2), Input.of(2, 1, 2)));
        c.add(Case.of("slice", "%s axis=1 1:5:2", x -> Ops.slice(x[0], 1, 1, 5, 2), Input.of(2, 6, 3)));
        c.add(Case.of("slice", "%s axis=-1 -3:", x -> Ops.slice(x[0], -1, -3, Integer.MAX_VALUE, 1), Input.of(3, 5)));
        c.add(Case.of("copy", "%s", x -> Ops.copy(x[0]), Input.of(2, 3)));

        // Convolution: plain with bias; strided, padded and grouped; dilated without bias.
        c.add(Case.of("conv2d", "%s*%s+%s s1 p1", x -> Ops.conv2d(x[0], x[1], x[2], 1, 1),
                Input.of(2, 3, 5, 5), Input.of(4, 3, 3, 3), Input.of(4)));
        c.add(Case.of("conv2d", "%s*%s+%s s2 p1 g2",
                x -> Ops.conv2d(x[0], x[1], x[2], new int[] {2}, new int[] {1}, new int[] {1}, 2),
                Input.of(1, 4, 6, 6), Input.of(4, 2, 3, 3), Input.of(4)));
        c.add(Case.of("conv2d", "%s*%s d2 p(2,1)",
                x -> Ops.conv2d(x[0], x[1], null, new int[] {1}, new int[] {2, 1}, new int[] {2}, 1),
                Input.of(1, 2, 7, 6), Input.of(3, 2, 3, 2)));

        // Pooling (random normal values: ties within a window are practically impossible).
        c.add(Case.of("max_pool2d", "%s k2 s2", x -> Ops.maxPool2d(x[0], 2, 2, 0), Input.of(2, 2, 6, 6)));
        c.add(Case.of("max_pool2d", "%s k3 s2 p1", x -> Ops.maxPool2d(x[0], 3, 2, 1), Input.of(1, 2, 5, 5)));
        c.add(Case.of("avg_pool2d", "%s k2 s2", x -> Ops.avgPool2d(x[0], 2, 2, 0), Input.of(2, 2, 6, 6)));
        c.add(Case.of("avg_pool2d", "%s k3 s2 p1", x -> Ops.avgPool2d(x[0], 3, 2, 1), Input.of(1, 2, 5, 5)));

        // Linear algebra.
        c.add(Case.of("matmul", "%s@%s", x -> Ops.matmul(x[0], x[1]), Input.of(2, 3, 4), Input.of(4, 5)));
        c.add(Case.of("matmul", "%s@%s", x -> Ops.matmul(x[0], x[1]), Input.of(3, 4), Input.of(2, 4, 2)));
        c.add(Case.of("linear", "%s.%sT+%s", x -> Ops.linear(x[0], x[1], x[2]), Input.of(4, 5), Input.of(3, 5), Input.of(3)));
        c.add(Case.of("linear", "%s.%sT", x -> Ops.linear(x[0], x[1], null), Input.of(2, 2, 5), Input.of(3, 5)));

        // Softmax and losses.
        c.add(Case.of("log_softmax", "%s axis=-1", x -> Ops.logSoftmax(x[0], -1), Input.of(3, 5)));
        c.add(Case.of("log_softmax", "%s axis=1", x -> Ops.logSoftmax(x[0], 1), Input.of(2, 3, 4)));
        int[] targets = {0, 4, 2, 2};
        c.add(Case.of("cross_entropy", "%s targets=[0,4,2,2]", x -> Ops.crossEntropy(x[0], targets), Input.of(4, 5)));

        // Every normalization layer's functional op, in each of its modes.
        c.addAll(NormGradcheckCases.all());
        return new GradcheckSuite(c);
    }

    public List<Case> cases() {
        return cases;
    }

    /** Distinct op names in catalogue order. */
    public List<String> opNames() {
        Set<String> names = new LinkedHashSet<>();
        cases.forEach(c -> names.add(c.op()));
        return List.copyOf(names);
    }

    /**
     * The cases of the named ops, in catalogue order.
     *
     * @throws IllegalArgumentException naming an unknown op and listing the known ones
     */
    public GradcheckSuite only(Collection<String> ops) {
        List<String> known = opNames();
        for (String op : ops) {
            if (!known.contains(op)) {
                throw new IllegalArgumentException("gradcheck: unknown op '" + op + "'; known ops: "
                        + String.join(", ", known));
            }
        }
        List<Case> kept = new ArrayList<>();
        for (Case c : cases) {
            if (ops.contains(c.op())) {
                kept.add(c);
            }
        }
        return new GradcheckSuite(kept);
    }

    /**
     * Runs one case on a device with inputs of {@code dtype}; an exception from the op is a
     * failed outcome, not a crash of the suite.
     *
     * @throws IllegalArgumentException when dtype is not float64 (finite differences need it)
     */
    public static Outcome run(Case c, Device device, DType dtype) {
        if (dtype != DType.F64) {
            throw new IllegalArgumentException("gradcheck: dtype " + dtype.numpyName()
                    + " is not supported; central differences need float64");
        }
        long start = System.nanoTime();
        try (Scope scope = Scope.open()) {
            Gradcheck.Result r = Gradcheck.check(c.fn(), inputs(c, device, dtype));
            return new Outcome(c, r.passed(), r.maxAbsError(), r.message(), millisSince(start));
        } catch (RuntimeException e) {
            return new Outcome(c, false, Double.NaN, "threw " + e, millisSince(start));
        }
    }

    /** The case's inputs with their seeded values (the same on every call), in the current scope. */
    static Tensor[] inputs(Case c, Device device, DType dtype) {
        Rng rng = new Rng(c.seed());
        Tensor[] inputs = new Tensor[c.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            Input in = c.inputs().get(i);
            inputs[i] = Tensor.fromDoubles(values(in, rng), in.shape(), dtype, device).requiresGrad(in.requiresGrad());
        }
        return inputs;
    }

    private static long millisSince(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static double[] values(Input in, Rng rng) {
        double[] v = new double[(int) in.shape().numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (in.domain()) {
                case NORMAL -> rng.nextGaussian();
                case POSITIVE -> 0.5 + 1.5 * rng.nextUniform();
                case AWAY_FROM_ZERO -> (0.2 + rng.nextUniform()) * (rng.nextUniform() < 0.5 ? -1 : 1);
            };
        }
        return v;
    }
}
