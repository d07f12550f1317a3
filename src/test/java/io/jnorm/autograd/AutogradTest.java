package io.jnorm.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

class AutogradTest {

    @Test
    void gradientAccumulatesWhenATensorIsUsedTwice() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}, 3).requiresGrad(true);
        // y = x*x + x  -> dy/dx = 2x + 1
        Ops.sum(Ops.add(Ops.mul(x, x), x)).backward();
        assertArrayEquals(new double[] {3, 5, 7}, x.grad().toDoubleArray(), 1e-12);
        // a second backward on a fresh graph adds to the existing gradient
        Ops.sum(x).backward();
        assertArrayEquals(new double[] {4, 6, 8}, x.grad().toDoubleArray(), 1e-12);
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void explicitUpstreamGradient() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor y = Ops.mul(x, Tensor.of(new double[] {3, 4}, 2));
        y.backward(Tensor.of(new double[] {10, 100}, 2));
        assertArrayEquals(new double[] {30, 400}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void tenThousandOpChainDoesNotOverflowTheStack() {
        Tensor x = Tensor.of(new double[] {0.5}, 1).requiresGrad(true);
        Tensor y = x;
        for (int i = 0; i < 10_000; i++) {
            y = Ops.add(y, Tensor.of(new double[] {0.001}, 1));
        }
        Ops.sum(y).backward();
        assertEquals(1.0, x.grad().item(), 0.0);
    }

    @Test
    void backwardTwiceWithoutRetainGraphIsAClearError() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor loss = Ops.sum(Ops.mul(x, x));
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("second time"), e.getMessage());
        assertTrue(e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void retainGraphAllowsASecondBackward() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor loss = Ops.sum(Ops.mul(x, x));
        loss.backward(Tensor.scalar(1, x.dtype(), x.device()), true);
        loss.backward();
        assertArrayEquals(new double[] {4, 8}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test
    void noGradRecordsNothingAndDetachCutsTheGraph() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        try (GradMode.Guard g = GradMode.noGrad()) {
            Tensor y = Ops.mul(x, x);
            assertFalse(y.requiresGrad());
            assertNull(y.gradFn());
        }
        assertTrue(GradMode.isEnabled());
        Tensor d = Ops.mul(x, x).detach();
        assertFalse(d.requiresGrad());
        assertArrayEquals(new double[] {1, 4}, d.toDoubleArray(), 0);
    }

    @Test
    void backwardNeedsAScalarOrAnExplicitGradient() {
        Tensor x = Tensor.of(new double[] {1, 2}, 2).requiresGrad(true);
        Tensor y = Ops.mul(x, x);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, y::backward);
        assertTrue(e.getMessage().contains("[2]"), e.getMessage());
        Tensor plain = Tensor.of(new double[] {1}, 1);
        assertThrows(IllegalArgumentException.class, plain::backward);
    }

    @Test
    void gradcheckRejectsANonFiniteOrNonPositiveStepAndTolerance() {
        Tensor x = Tensor.of(new double[] {0.3, -1.2}, 2).requiresGrad(true);
        for (double eps : new double[] {0, -1e-6, Double.NaN, Double.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Gradcheck.check(in -> Ops.mul(in[0], in[0]), new Tensor[] {x}, eps, 1e-5, 1e-3));
            assertTrue(e.getMessage().contains("gradcheck") && e.getMessage().contains("eps")
                    && e.getMessage().contains(String.valueOf(eps)), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Gradcheck.check(in -> Ops.mul(in[0], in[0]), new Tensor[] {x}, 1e-6, Double.NaN, 1e-3));
        assertTrue(e.getMessage().contains("atol NaN"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Gradcheck.check(in -> Ops.mul(in[0], in[0]), new Tensor[] {x}, 1e-6, 1e-5, -1));
        assertTrue(e.getMessage().contains("rtol -1.0"), e.getMessage());
    }

    @Test
    void gradcheckCatchesAWrongBackward() {
        Tensor x = Tensor.of(new double[] {0.3, -1.2, 2.0}, 3).requiresGrad(true);
        // forward is x^2 but the recorded backward claims 3x
        Gradcheck.Result r = Gradcheck.check(in -> {
            Tensor a = in[0];
            Tensor y;
            try (GradMode.Guard g = GradMode.noGrad()) {
                y = Ops.mul(a, a);
            }
            return Autograd.record("bad_square", y, (gy, needs) -> new Tensor[] {Ops.mul(gy, a.mul(3.0))}, a);
        }, x);
        assertFalse(r.passed());
        assertTrue(r.message().contains("input 0"), r.message());
        assertTrue(r.message().contains("analytic"), r.message());
        assertTrue(r.message().contains("numeric"), r.message());
    }

    @Test
    void gradcheckPassesOnACorrectComposite() {
        Tensor a = Tensor.of(new double[] {0.3, -1.2, 2.0, 0.7, 1.1, -0.4}, 2, 3).requiresGrad(true);
        Tensor b = Tensor.of(new double[] {1.5, -0.5, 2.5}, 3).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.div(Ops.mul(in[0], in[1]), Ops.add(Ops.exp(in[1]), in[0])), a, b);
    }
}
