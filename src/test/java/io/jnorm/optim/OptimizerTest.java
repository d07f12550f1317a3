package io.jnorm.optim;

import static io.jnorm.testing.Close.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SGD and AdamW against references written here from PyTorch's documented update rules
 * (torch.optim.SGD and torch.optim.AdamW, 1.13). The gradient is a fixed nonlinear function of
 * the current parameter, computed the same way for jnorm and the reference, so momentum and
 * moment state matter over several steps.
 */
class OptimizerTest {
    private static final Shape SHAPE = Shape.of(2, 3);
    private static final int STEPS = 6;

    /** g = (p - t)^3 + 0.5 sin(3p): nonlinear, so a wrong step compounds. */
    static double[] grad(double[] p, double[] t) {
        double[] g = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            double d = p[i] - t[i];
            g[i] = d * d * d + 0.5 * Math.sin(3 * p[i]);
        }
        return g;
    }

    private static double atol(DType d) {
        return d == DType.F64 ? 1e-13 : 2e-6;
    }

    private static double rtol(DType d) {
        return d == DType.F64 ? 1e-11 : 2e-5;
    }

    static Stream<Arguments> sgdCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType d : DType.values()) {
            b.add(Arguments.of(d, 0.1, 0.0, 0.0, 0.0, false));
            b.add(Arguments.of(d, 0.1, 0.0, 0.0, 0.05, false));
            b.add(Arguments.of(d, 0.05, 0.9, 0.0, 0.0, false));
            b.add(Arguments.of(d, 0.05, 0.9, 0.3, 1e-2, false));
            b.add(Arguments.of(d, 0.05, 0.8, 0.0, 1e-2, true));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} lr={1} momentum={2} dampening={3} wd={4} nesterov={5}")
    @MethodSource("sgdCases")
    void sgdMatchesTorchFormula(DType dtype, double lr, double momentum, double dampening, double wd, boolean nesterov) {
        Rng rng = new Rng(3);
        Tensor p = Tensor.randn(rng, SHAPE, dtype, Device.CPU).requiresGrad(true);
        double[] target = Tensor.randn(rng, SHAPE, DType.F64, Device.CPU).toDoubleArray();
        double[] ref = p.toDoubleArray();
        double[] buf = null;
        try (SGD opt = new SGD(List.of(p), lr, momentum, dampening, wd, nesterov)) {
            for (int step = 1; step <= STEPS; step++) {
                p.setGrad(Tensor.fromDoubles(grad(p.toDoubleArray(), target), SHAPE, dtype, Device.CPU));
                opt.step();

                // torch.optim.SGD: d_p = g + wd*p; buf = d_p (first) | momentum*buf + (1-dampening)*d_p;
                // d_p = nesterov ? d_p + momentum*buf : buf; p -= lr*d_p
                double[] g = grad(ref, target);
                for (int i = 0; i < g.length; i++) {
                    g[i] += wd * ref[i];
                }
                if (momentum != 0) {
                    if (buf == null) {
                        buf = g.clone();
                    } else {
                        for (int i = 0; i < g.length; i++) {
                            buf[i] = momentum * buf[i] + (1 - dampening) * g[i];
                        }
                    }
                    for (int i = 0; i < g.length; i++) {
                        g[i] = nesterov ? g[i] + momentum * buf[i] : buf[i];
                    }
                }
                for (int i = 0; i < g.length; i++) {
                    ref[i] -= lr * g[i];
                }
                assertClose("SGD parameter after step " + step, ref, p.toDoubleArray(), atol(dtype), rtol(dtype));
                if (momentum != 0) {
                    assertClose("momentum buffer after step " + step, buf,
                            opt.stateDict().get("state.0.momentum_buffer").toDoubleArray(), atol(dtype), rtol(dtype));
                }
            }
        }
    }

    static Stream<Arguments> adamCases() {
        Stream.Builder<Arguments> b = Stream.builder();
        for (DType d : DType.values()) {
            b.add(Arguments.of(d, 1e-2, 0.9, 0.999, 1e-8, 1e-2));
            b.add(Arguments.of(d, 5e-2, 0.5, 0.9, 1e-3, 0.0));
            b.add(Arguments.of(d, 1e-1, 0.0, 0.0, 1e-8, 0.3));
        }
        return b.build();
    }

    @ParameterizedTest(name = "{0} lr={1} betas=({2}, {3}) eps={4} wd={5}")
    @MethodSource("adamCases")
    void adamWMatchesTorchFormula(DType dtype, double lr, double beta1, double beta2, double eps, double wd) {
        Rng rng = new Rng(5);
        Tensor p = Tensor.randn(rng, SHAPE, dtype, Device.CPU).requiresGrad(true);
        double[] target = Tensor.randn(rng, SHAPE, DType.F64, Device.CPU).toDoubleArray();
        double[] ref = p.toDoubleArray();
        double[] m = new double[ref.length];
        double[] v = new double[ref.length];
        try (AdamW opt = new AdamW(List.of(p), lr, beta1, beta2, eps, wd)) {
            for (int t = 1; t <= STEPS; t++) {
                p.setGrad(Tensor.fromDoubles(grad(p.toDoubleArray(), target), SHAPE, dtype, Device.CPU));
                opt.step();

                // torch.optim.AdamW: p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
                // p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
                double[] g = grad(ref, target);
                for (int i = 0; i < g.length; i++) {
                    ref[i] *= 1 - lr * wd;
                    m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                    v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                    double mHat = m[i] / (1 - Math.pow(beta1, t));
                    double denom = Math.sqrt(v[i]) / Math.sqrt(1 - Math.pow(beta2, t)) + eps;
                    ref[i] -= lr * mHat / denom;
                }
                assertClose("AdamW parameter after step " + t, ref, p.toDoubleArray(), atol(dtype), rtol(dtype));
                Map<String, Tensor> s = opt.stateDict();
                assertEquals(t, s.get("state.0.step").item(), "step counter");
                assertClose("exp_avg", m, s.get("state.0.exp_avg").toDoubleArray(), atol(dtype), rtol(dtype));
                assertClose("exp_avg_sq", v, s.get("state.0.exp_avg_sq").toDoubleArray(), atol(dtype), rtol(dtype));
            }
            assertEquals(List.of("state.0.step"), List.copyOf(opt.integerStateKeys()));
        }
    }

    @Test
    void updatesAreInPlaceAndParametersWithoutGradientAreSkipped() {
        Tensor a = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {4, 5}, 2).requiresGrad(true);
        try (AdamW opt = new AdamW(List.of(a, b), 0.1)) {
            a.setGrad(Tensor.of(new double[] {1, -1, 0.5}, 3));
            opt.step();
            assertSame(a, opt.params().get(0));
            assertFalse(a.isClosed());
            assertTrue(a.requiresGrad());
            assertTrue(a.get(0) < 1 && a.get(1) > 2, "moved against the gradient: " + a);
            assertArrayEquals(new double[] {4, 5}, b.toDoubleArray(), 0.0, "no gradient, no update");
            assertNull(opt.stateDict().get("state.1.exp_avg"), "no state for a parameter never updated");
            assertEquals(3, opt.stateDict().size());
            opt.zeroGrad();
            assertNull(a.grad());
        }
    }

    static Stream<Arguments> badHyperParameters() {
        List<Tensor> ps = List.of(Tensor.zeros(DType.F64, 2).requiresGrad(true));
        return Stream.of(
                Arguments.of((Supplier<Object>) () -> new SGD(ps, -0.1), "SGD: invalid learning rate: -0.1"),
                Arguments.of((Supplier<Object>) () -> new SGD(ps, Double.NaN), "SGD: invalid learning rate: NaN"),
                Arguments.of((Supplier<Object>) () -> new SGD(ps, 0.1, -0.5, 0, 0, false), "SGD: invalid momentum value: -0.5"),
                Arguments.of((Supplier<Object>) () -> new SGD(ps, 0.1, 0.9, -1, 0, false), "SGD: invalid dampening value: -1.0"),
                Arguments.of((Supplier<Object>) () -> new SGD(ps, 0.1, 0.9, 0, -1e-4, false), "SGD: invalid weight_decay value: -1.0E-4"),
                Arguments.of((Supplier<Object>) () -> new SGD(ps, 0.1, 0.0, 0, 0, true), "Nesterov momentum requires a momentum > 0"),
                Arguments.of((Supplier<Object>) () -> new SGD(ps, 0.1, 0.9, 0.1, 0, true), "zero dampening, got momentum 0.9, dampening 0.1"),
                Arguments.of((Supplier<Object>) () -> new AdamW(ps, -1e-3), "AdamW: invalid learning rate: -0.001"),
                Arguments.of((Supplier<Object>) () -> new AdamW(ps, 1e-3, 1.0, 0.999, 1e-8, 0), "invalid beta parameter at index 0: 1.0 (must be in [0, 1))"),
                Arguments.of((Supplier<Object>) () -> new AdamW(ps, 1e-3, 0.9, -0.1, 1e-8, 0), "invalid beta parameter at index 1: -0.1"),
                Arguments.of((Supplier<Object>) () -> new AdamW(ps, 1e-3, 0.9, 0.999, -1e-8, 0), "AdamW: invalid epsilon value: -1.0E-8"),
                Arguments.of((Supplier<Object>) () -> new AdamW(ps, 1e-3, 0.9, 0.999, 1e-8, -0.01), "AdamW: invalid weight_decay value: -0.01"),
                Arguments.of((Supplier<Object>) () -> new SGD(List.of(), 0.1), "SGD: optimizer got an empty parameter list"),
                Arguments.of((Supplier<Object>) () -> new SGD(List.of(Tensor.zeros(DType.F64, 2)), 0.1), "must be a leaf that requires grad"),
                Arguments.of((Supplier<Object>) () -> new AdamW(List.of(ps.get(0), ps.get(0))), "appears more than once"));
    }

    @ParameterizedTest
    @MethodSource("badHyperParameters")
    void badHyperParametersAreRejectedWithTheValue(Supplier<Object> make, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, make::get);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void setLrChangesTheNextStepAndRejectsBadValues() {
        Tensor p = Tensor.of(new double[] {1.0}, 1).requiresGrad(true);
        try (SGD opt = new SGD(List.of(p), 0.1)) {
            opt.setLr(0.5);
            p.setGrad(Tensor.of(new double[] {2.0}, 1));
            opt.step();
            assertEquals(1.0 - 0.5 * 2.0, p.item(), 0.0);
            assertThrows(IllegalArgumentException.class, () -> opt.setLr(Double.POSITIVE_INFINITY));
        }
    }

    static Stream<Arguments> stateful() {
        return Stream.of(Arguments.of("SGD"), Arguments.of("AdamW"));
    }

    private static Optimizer make(String kind, List<Tensor> ps) {
        return kind.equals("SGD") ? new SGD(ps, 0.05, 0.9, 0.1, 1e-2, false) : new AdamW(ps, 0.05, 0.8, 0.95, 1e-8, 1e-2);
    }

    @ParameterizedTest
    @MethodSource("stateful")
    void resumingFromAStateDictContinuesBitForBit(String kind) {
        Rng rng = new Rng(11);
        double[] target = Tensor.randn(rng, SHAPE, DType.F64, Device.CPU).toDoubleArray();
        Tensor p = Tensor.randn(rng, SHAPE, DType.F32, Device.CPU).requiresGrad(true);
        Tensor q = Tensor.randn(rng, Shape.of(4), DType.F32, Device.CPU).requiresGrad(true);
        try (Optimizer a = make(kind, List.of(p, q))) {
            for (int s = 0; s < 3; s++) {
                p.setGrad(Tensor.fromDoubles(grad(p.toDoubleArray(), target), SHAPE, DType.F32, Device.CPU));
                a.step();
            }
            Tensor p2 = Tensor.fromDoubles(p.toDoubleArray(), SHAPE, DType.F32, Device.CPU).requiresGrad(true);
            Tensor q2 = Tensor.fromDoubles(q.toDoubleArray(), Shape.of(4), DType.F32, Device.CPU).requiresGrad(true);
            try (Optimizer b = make(kind, List.of(p2, q2))) {
                b.loadStateDict(a.stateDict(), true);
                assertEquals(a.stateDict().keySet(), b.stateDict().keySet());
                for (int s = 0; s < 3; s++) {
                    p.setGrad(Tensor.fromDoubles(grad(p.toDoubleArray(), target), SHAPE, DType.F32, Device.CPU));
                    p2.setGrad(Tensor.fromDoubles(grad(p2.toDoubleArray(), target), SHAPE, DType.F32, Device.CPU));
                    a.step();
                    b.step();
                    assertArrayEquals(p.toDoubleArray(), p2.toDoubleArray(), 0.0, "step " + s + " after resume");
                }
            }
        }
    }

    @Test
    void loadingABadOptimizerStateListsEveryProblemAndChangesNothing() {
        Tensor p = Tensor.zeros(DType.F64, 3).requiresGrad(true);
        try (AdamW opt = new AdamW(List.of(p), 0.1)) {
            p.setGrad(Tensor.of(new double[] {1, 2, 3}, 3));
            opt.step();
            double[] before = opt.stateDict().get("state.0.exp_avg").toDoubleArray();
            Map<String, Tensor> bad = new LinkedHashMap<>();
            bad.put("state.0.step", Tensor.scalar(1.5, DType.F64, Device.CPU));
            bad.put("state.0.exp_avg", Tensor.zeros(DType.F64, 4));
            bad.put("state.0.exp_avg_sq", Tensor.zeros(DType.F32, 3));
            bad.put("state.7.exp_avg", Tensor.zeros(DType.F64, 3));
            String msg = assertThrows(IllegalArgumentException.class, () -> opt.loadStateDict(bad, true)).getMessage();
            assertTrue(msg.contains("Error(s) in loading state_dict for AdamW:"), msg);
            assertTrue(msg.contains("Unexpected key(s) in state_dict: [state.7.exp_avg]"), msg);
            assertTrue(msg.contains("invalid counter for state.0.step: 1.5"), msg);
            assertTrue(msg.contains("size mismatch for state.0.exp_avg: copying a state with shape [4] from checkpoint, "
                    + "the shape in current optimizer is [3]."), msg);
            assertTrue(msg.contains("dtype mismatch for state.0.exp_avg_sq"), msg);
            assertArrayEquals(before, opt.stateDict().get("state.0.exp_avg").toDoubleArray(), 0.0);

            Map<String, Tensor> partial = Map.of("state.0.exp_avg", Tensor.zeros(DType.F64, 3));
            String pm = assertThrows(IllegalArgumentException.class, () -> opt.loadStateDict(partial, true)).getMessage();
            assertTrue(pm.contains("incomplete state for parameter 0: has [exp_avg] but lacks [step, exp_avg_sq]"), pm);
        }
    }
}
