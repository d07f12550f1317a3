package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.function.Function;

/**
 * The one-line parity check of the heavy-family op tests: run an op on the CPU reference and on
 * the GPU under test from the same inputs, contract the output with fixed random weights, call
 * backward, and compare the output and every input gradient.
 */
final class HeavyOpsParity {
    private HeavyOpsParity() {
    }

    /** Tolerance of an op whose outputs sum {@code terms} products of O(1) values. */
    static double atol(DType t, int terms) {
        return t == DType.F32 ? 8 * terms * 0x1p-24 * 4 : 1e-12 * Math.max(1, terms);
    }

    static void check(String what, DType t, int terms, Function<Tensor[], Tensor> op, Tensor... cpuInputs) {
        try (Scope s = Scope.open()) {
            Tensor[] c = new Tensor[cpuInputs.length];
            Tensor[] g = new Tensor[cpuInputs.length];
            for (int i = 0; i < c.length; i++) {
                c[i] = cpuInputs[i].detach().requiresGrad(true);
                g[i] = gpu(cpuInputs[i]).requiresGrad(true);
            }
            Tensor yc = op.apply(c);
            Tensor yg = op.apply(g);
            Tensor wts = Tensor.randn(new Rng(99), yc.shape(), t, Device.CPU);
            yc.mul(wts).sum().backward();
            yg.mul(gpu(wts)).sum().backward();
            double atol = atol(t, terms);
            double rtol = t == DType.F32 ? 1e-5 : 1e-12;
            assertClose(yc.toDoubleArray(), yg.toDoubleArray(), atol, rtol, what + " " + t + " output");
            for (int i = 0; i < c.length; i++) {
                assertClose(c[i].grad().toDoubleArray(), g[i].grad().toDoubleArray(), atol * 4, rtol, what + " " + t
                        + " gradient of input " + i + " " + c[i].shape());
            }
        }
    }

    static Tensor randn(long seed, DType t, int... dims) {
        return Tensor.randn(new Rng(seed), Shape.of(dims), t, Device.CPU);
    }
}
