package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.nn.Sequential;
import io.jnorm.ops.Ops;
import io.jnorm.optim.SGD;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Device-memory lifetime of training on the GPU: a step run inside a {@link Scope} (forward,
 * backward, optimizer step) frees every intermediate and every tensor autograd saved for
 * backward, so after the warm-up step (which creates the gradients and the momentum buffers)
 * the bytes in use come back to the same value after every step, and that value is exactly the
 * model, its gradients and its momentum buffers.
 */
class EmulatedTrainingMemoryTest {
    private static final int[] TARGETS = {1, 2};

    /** Bytes in use at the end of the scope, before it closes (the step's peak is at least this). */
    private static long step(Sequential net, SGD opt, Tensor x) {
        CudaBackend b = backend();
        opt.zeroGrad();
        try (Scope scope = Scope.open()) {
            Tensor loss = Ops.crossEntropy(net.forward(x), TARGETS);
            loss.backward();
            opt.step();
            return b.bytesInUse();
        }
    }

    /** Device bytes that one more copy of every parameter takes (size classes included). */
    private static long parameterBytes(Sequential net) {
        CudaBackend b = backend();
        long before = b.bytesInUse();
        try (Scope scope = Scope.open()) {
            for (Tensor p : net.parameters()) {
                Tensor.zeros(p.shape(), p.dtype(), p.device());
            }
            return b.bytesInUse() - before;
        }
    }

    @Test
    void trainingStepsInsideAScopeReturnToTheBaseline() {
        CudaBackend b = backend();
        Device d = CudaTestSupport.device();
        long empty = b.bytesInUse();
        try (Sequential net = EmulatedTrainingEndToEndTest.net(DType.F32, d, 3);
             SGD opt = new SGD(net.parameters(), 0.05, 0.9, 0.0, 0.0, false);
             Tensor x = Tensor.randn(new Rng(4), Shape.of(2, 3, 8, 8), DType.F32, d)) {
            long model = b.bytesInUse();
            long params = parameterBytes(net);
            step(net, opt, x);
            long baseline = b.bytesInUse();
            assertEquals(2 * params, baseline - model,
                    "after the warm-up step: one gradient and one momentum buffer per parameter, nothing else");
            for (int k = 1; k <= 3; k++) {
                long inside = step(net, opt, x);
                assertTrue(inside > baseline, "step " + k + " held intermediates inside its scope (" + inside
                        + " bytes vs baseline " + baseline + "): the measurement sees them");
                assertEquals(baseline, b.bytesInUse(), "device bytes in use after training step " + k);
            }
            net.eval();
            try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
                net.forward(x);
            }
            assertEquals(baseline, b.bytesInUse(), "device bytes in use after an eval forward");
            net.train();
            try (Scope scope = Scope.open()) {
                net.forward(x);  // a forward whose graph is never back-propagated
            }
            assertEquals(baseline, b.bytesInUse(), "device bytes in use after a forward without backward");
        }
        assertEquals(empty, b.bytesInUse(), "closing the model, optimizer and input frees everything");
    }
}
