package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A few SGD steps of a small CNN (conv, relu, max and avg pooling, linear, cross entropy) on the
 * GPU match the same steps on the CPU, step by step, with every op on CUDA kernels (no host
 * fallback), and memory returns to its baseline after the steps.
 */
class CudaEndToEndTest {
    private static final int STEPS = 3;
    private static final double LR = 0.1;
    private static final int[] TARGETS = {2, 0};

    private static Tensor loss(Tensor[] p, Tensor x) {
        Tensor h = Ops.relu(Ops.conv2d(x, p[0], p[1], 1, 1));
        Tensor q = Ops.avgPool2d(Ops.maxPool2d(h, 2, 1, 0), 2, 2, 0);
        Tensor logits = Ops.linear(Ops.flatten(q, 1), p[2], p[3]);
        return Ops.crossEntropy(logits, TARGETS);
    }

    /** Losses of each step, then the final parameters' values, all flattened. */
    private static double[][] train(Device device, DType t) {
        Rng rng = new Rng(7);
        int[][] shapes = {{3, 1, 3, 3}, {3}, {3, 12}, {3}};
        Tensor[] p = new Tensor[shapes.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Tensor.randn(rng, Shape.of(shapes[i]), t, device).requiresGrad(true);
        }
        Tensor x = Tensor.randn(rng, Shape.of(2, 1, 5, 5), t, device);
        double[] losses = new double[STEPS];
        for (int step = 0; step < STEPS; step++) {
            Tensor[] next = new Tensor[p.length];
            try (Scope scope = Scope.open()) {
                Tensor l = loss(p, x);
                l.backward();
                losses[step] = l.item();
                try (GradMode.Guard g = GradMode.noGrad()) {
                    for (int i = 0; i < p.length; i++) {
                        next[i] = scope.keep(Ops.sub(p[i], Ops.mul(p[i].grad(), Ops.scalarLike(p[i], LR))).detach());
                    }
                }
            }
            for (int i = 0; i < p.length; i++) {
                p[i].close();
                p[i] = next[i].requiresGrad(true);
            }
        }
        double[][] out = new double[1 + p.length][];
        out[0] = losses;
        for (int i = 0; i < p.length; i++) {
            out[1 + i] = p[i].toDoubleArray();
            p[i].close();
        }
        x.close();
        return out;
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void smallCnnTrainingStepsMatchTheCpu(DType t) {
        long baseline = backend().bytesInUse();
        double[][] cpu = train(Device.CPU, t);
        double[][][] gpu = new double[1][][];
        Map<String, Long> launches = launchesDuring(() -> gpu[0] = train(CudaTestSupport.device(), t));
        // float64: the GPU's reductions add in another order; float32: a few ulps per op and step.
        double tol = t == DType.F64 ? 1e-12 : 2e-5;
        assertClose(cpu[0], gpu[0][0], tol, tol, t + " losses per step");
        for (int i = 1; i < cpu.length; i++) {
            assertClose(cpu[i], gpu[0][i], tol, tol, t + " parameter " + (i - 1) + " after " + STEPS + " steps");
        }
        assertTrue(cpu[0][STEPS - 1] < cpu[0][0], "the loss falls: " + java.util.Arrays.toString(cpu[0]));
        assertEquals(baseline, backend().bytesInUse(), "device memory back at its baseline after training");
        String s = t.suffix();
        for (String k : new String[] {"ew_unary_" + s, "ew_unary_backward_" + s, "ew_binary_" + s, "ew_binary_bcast_" + s,
            "reduce_cols_" + s, "reduce_general_" + s}) {
            assertTrue(launches.containsKey(k), k + " ran; launches: " + launches);
        }
        for (String k : new String[] {"conv2d_fwd_" + s, "conv2d_bwd_weight_" + s,
            "max_pool2d_fwd_" + s, "max_pool2d_bwd_" + s, "avg_pool2d_fwd_" + s, "avg_pool2d_bwd_" + s, "gemm_" + s, "cross_entropy_lse_" + s,
            "cross_entropy_nll_" + s, "cross_entropy_bwd_" + s}) {
            assertTrue(launches.containsKey(k), k + " ran; launches: " + launches);
        }
        Map<String, Long> fallbacks = backend().launchLog().fallbackCounts();
        for (String f : new String[] {"conv.", "pool.", "linalg.", "loss."}) {
            assertTrue(fallbacks.keySet().stream().noneMatch(k -> k.startsWith(f)), f + " ran on CUDA kernels: " + fallbacks);
        }
    }
}
