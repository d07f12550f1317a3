package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.eps;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.GradMode;
import io.jnorm.nn.AvgPool2d;
import io.jnorm.nn.BatchChannelNorm2d;
import io.jnorm.nn.Conv2d;
import io.jnorm.nn.Flatten;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.Linear;
import io.jnorm.nn.Module;
import io.jnorm.nn.ReLU;
import io.jnorm.nn.Sequential;
import io.jnorm.nn.SwitchableNorm2d;
import io.jnorm.nn.WsPreset;
import io.jnorm.ops.Ops;
import io.jnorm.optim.SGD;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The end-to-end check: a small net of three weight-standardized convolution blocks
 * (WS-conv + GroupNorm, WS-conv + BatchChannelNorm2d, WS-conv + SwitchableNorm2d, each followed
 * by ReLU), average pooling and a linear head, trained with cross entropy and SGD with momentum
 * for a few steps on the emulated GPU and on the CPU reference from the same initial state
 * (the CPU net's state dict loaded into the GPU net). After every step the loss, every
 * parameter's gradient, every parameter, every buffer (running statistics) and the optimizer's
 * momentum buffers agree; so do the eval-mode outputs after training. The kernels that ran are
 * asserted from the backend's launch log, and no op family may run through the host fallback.
 */
class EmulatedTrainingEndToEndTest {
    private static final int N = 2;
    private static final int C_IN = 3;
    private static final int HW = 8;
    private static final int C = 8;
    private static final int GROUPS = 4;
    private static final int CLASSES = 3;
    private static final int STEPS = 3;
    private static final int[] TARGETS = {2, 0};

    /**
     * The longest reduction in the net: the weight gradient of a convolution and the batch
     * statistics of BCN's BN stage sum N·H·W = 128 terms (the convolutions' fan-in is 72, GN's
     * groups hold 2·64 values, the head 4·C = 32 features).
     */
    private static final long LONGEST_SUM = (long) N * HW * HW;

    static Sequential net(DType t, Device d, long seed) {
        Rng rng = new Rng(seed);
        return new Sequential(
                wsConv(C_IN, rng, t, d), new GroupNorm(GROUPS, C, 1e-5, true, t, d), new ReLU(),
                wsConv(C, rng, t, d), BatchChannelNorm2d.builder(C).groups(GROUPS).dtype(t).device(d).build(), new ReLU(),
                wsConv(C, rng, t, d), SwitchableNorm2d.builder(C).dtype(t).device(d).build(), new ReLU(),
                new AvgPool2d(4), new Flatten(), new Linear(C * 4, CLASSES, true, t, d, rng));
    }

    private static Conv2d wsConv(int in, Rng rng, DType t, Device d) {
        return Conv2d.builder(in, C, 3).padding(1).bias(false).ws(WsPreset.OFFICIAL).rng(rng).dtype(t).device(d).build();
    }

    /**
     * Moves the norm layers' affine parameters and SN's mixing logits (and the head's bias) off
     * their initial 1 and 0, so that every gradient path (per-group scale, softmax over IN/LN/BN)
     * is exercised.
     */
    private static void perturbNormParameters(Module net, Rng rng) {
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            for (Tensor p : net.parameters()) {
                if (p.rank() == 1) {
                    Tensor noise = Tensor.randn(rng, p.shape(), p.dtype(), p.device());
                    p.backend().copy(Ops.add(p, Ops.mul(noise, Ops.scalarLike(p, 0.2))), p);
                }
            }
        }
    }

    /** Everything one side knows after a step, by name. */
    private record Snapshot(double loss, Map<String, double[]> values) {
    }

    private static Snapshot trainStep(Sequential net, SGD opt, Tensor x) {
        Map<String, double[]> v = new LinkedHashMap<>();
        double loss;
        opt.zeroGrad();
        try (Scope scope = Scope.open()) {
            Tensor l = Ops.crossEntropy(net.forward(x), TARGETS);
            l.backward();
            loss = l.item();
            net.namedParameters().forEach((k, p) -> v.put("grad " + k, p.grad().toDoubleArray()));
            opt.step();
        }
        net.namedParameters().forEach((k, p) -> v.put("param " + k, p.toDoubleArray()));
        net.namedBuffers().forEach((k, b) -> v.put("buffer " + k, b.toDoubleArray()));
        opt.stateDict().forEach((k, s) -> v.put("sgd " + k, s.toDoubleArray()));
        return new Snapshot(loss, v);
    }

    private static double[] evalLogits(Sequential net, Tensor x) {
        net.eval();
        try (GradMode.Guard g = GradMode.noGrad(); Scope scope = Scope.open()) {
            return net.forward(x).toDoubleArray();
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void trainingStepsMatchTheCpuStepByStep(DType t) {
        Device gpuDevice = CudaTestSupport.device();
        long baseline = backend().bytesInUse();
        Map<String, Long> fallbacksBefore = backend().launchLog().fallbackCounts();
        List<String> maxDiffs = new ArrayList<>();
        Map<String, Long> launches;
        try (Sequential cpu = net(t, Device.CPU, 5); Sequential gpu = net(t, gpuDevice, 99)) {
            perturbNormParameters(cpu, new Rng(6));
            gpu.loadStateDict(cpu.stateDict());
            Rng data = new Rng(8);
            Tensor xc = Tensor.randn(data, Shape.of(N, C_IN, HW, HW), t, Device.CPU);
            Tensor xEval = Tensor.randn(data, Shape.of(N, C_IN, HW, HW), t, Device.CPU);
            try (SGD optCpu = new SGD(cpu.parameters(), 0.1, 0.9, 0.0, 0.0, false);
                 SGD optGpu = new SGD(gpu.parameters(), 0.1, 0.9, 0.0, 0.0, false);
                 Tensor xg = xc.to(gpuDevice); Tensor xEvalGpu = xEval.to(gpuDevice)) {
                Snapshot[] gpuSteps = new Snapshot[STEPS];
                double[][] gpuEval = new double[1][];
                launches = launchesDuring(() -> {
                    for (int k = 0; k < STEPS; k++) {
                        gpuSteps[k] = trainStep(gpu, optGpu, xg);
                    }
                    gpuEval[0] = evalLogits(gpu, xEvalGpu);
                });
                double[] lossesCpu = new double[STEPS];
                for (int k = 0; k < STEPS; k++) {
                    Snapshot c = trainStep(cpu, optCpu, xc);
                    Snapshot g = gpuSteps[k];
                    lossesCpu[k] = c.loss();
                    // Rounding differences feed into the next step, so the float32 bound grows with the step.
                    double tol = tolerance(t, k + 1);
                    String at = t + " step " + k;
                    assertClose(new double[] {c.loss()}, new double[] {g.loss()}, tol, tol, at + " loss");
                    assertEquals(c.values().keySet(), g.values().keySet(), at + ": the same state on both sides");
                    double worst = Math.abs(c.loss() - g.loss());
                    String worstName = "loss";
                    for (Map.Entry<String, double[]> e : c.values().entrySet()) {
                        double[] ref = e.getValue();
                        double[] got = g.values().get(e.getKey());
                        double scale = maxAbs(ref);
                        // Relative to the tensor's largest element: a gradient entry near zero is a
                        // difference of larger terms, with their absolute rounding error.
                        assertClose(ref, got, tol * scale, tol, at + " " + e.getKey());
                        double d = maxDiff(ref, got) / Math.max(scale, Double.MIN_NORMAL);
                        if (d > worst) {
                            worst = d;
                            worstName = e.getKey();
                        }
                    }
                    maxDiffs.add(String.format("step %d: loss cpu %.10f gpu %.10f, max relative diff %.3g (%s)", k,
                            c.loss(), g.loss(), worst, worstName));
                }
                assertTrue(lossesCpu[STEPS - 1] < lossesCpu[0], "the loss falls: " + java.util.Arrays.toString(lossesCpu));
                double[] evalCpu = evalLogits(cpu, xEval);
                double tol = tolerance(t, STEPS + 1);
                assertClose(evalCpu, gpuEval[0], tol * maxAbs(evalCpu), tol, t + " eval logits after training");
                maxDiffs.add(String.format("eval: max relative diff %.3g", maxDiff(evalCpu, gpuEval[0]) / maxAbs(evalCpu)));
            }
            xc.close();
            xEval.close();
        }
        Map<String, Long> fallbacks = delta(fallbacksBefore, backend().launchLog().fallbackCounts());
        System.out.println("EmulatedTrainingEndToEndTest " + t + ": " + String.join("; ", maxDiffs)
                + "; host fallbacks: " + fallbacks + "; kernels: " + launches);
        assertEquals(baseline, backend().bytesInUse(), t + ": device memory back at its baseline after training");
        assertKernelsRan(t, launches);
        assertTrue(fallbacks.isEmpty(), t + ": every op ran on CUDA kernels, but these ran through the host "
                + "fallback: " + fallbacks);
    }

    /**
     * float64: the GPU sums in another order (tree reductions), a few hundred ulps at most per
     * step. float32: the CPU rounds once from float64 while the GPU accumulates in float32 and
     * rounds at every op; 4·(longest sum + 8)·u per step (about 3e-5; observed up to 1e-6).
     */
    private static double tolerance(DType t, int steps) {
        if (t == DType.F64) {
            return 1e-10;
        }
        return 4.0 * (LONGEST_SUM + 8) * eps(t) * steps;
    }

    private static void assertKernelsRan(DType t, Map<String, Long> launches) {
        String s = "_" + t.suffix();
        // One prefix per family the net uses: fused WS-conv forward and backward, the norm
        // statistics (GN and BCN's BN stage), BCN's group stage, SN's one statistics pass with
        // its forward and backward, pooling, the linear head's GEMM, softmax / cross entropy,
        // elementwise (ReLU, the optimizer) and reductions (bias gradients).
        for (String family : new String[] {"ws_conv2d_fwd", "ws_conv2d_bwd_input", "ws_bwd_weight", "norm_",
            "bcn_sum_groups", "bcn_expand_groups", "sn_statistics", "sn_forward", "sn_backward",
            "avg_pool2d_fwd", "avg_pool2d_bwd", "gemm", "cross_entropy_lse", "cross_entropy_nll", "cross_entropy_bwd",
            "ew_binary", "ew_unary",
            "reduce_"}) {
            assertTrue(launches.keySet().stream().anyMatch(k -> k.startsWith(family) && k.endsWith(s)),
                    t + ": a " + family + "*" + s + " kernel ran; launches: " + launches);
        }
        // Elementwise kernels of the other dtype may run for float64 counters (num_batches_tracked).
        assertTrue(launches.keySet().stream().allMatch(k -> k.endsWith(s) || k.startsWith("ew_")),
                t + ": every compute kernel ran in " + t + ": " + launches);
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new LinkedHashMap<>();
        after.forEach((k, v) -> {
            long n = v - before.getOrDefault(k, 0L);
            if (n > 0) {
                d.put(k, n);
            }
        });
        return d;
    }

    private static double maxAbs(double[] v) {
        double m = 0;
        for (double x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    private static double maxDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
