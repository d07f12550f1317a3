package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.countersDuring;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.globalBytes;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.device;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.gpu.KernelCounters;
import io.jnorm.nn.BatchChannelNorm2d;
import io.jnorm.nn.BatchRenorm2d;
import io.jnorm.nn.Module;
import io.jnorm.nn.UnifiedBatchNorm2d;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Whole-layer global traffic of the composite norm layers on the emulated GPU (issue 5's kernel
 * budgets, in tensor-sized transfers T = numel·sizeof(dtype) of the input), for a training step
 * on a [4, 64, 8, 8] float32 input whose per-channel and per-group slices fit on chip. Each case
 * prints one report line; a layer that regresses past its budget fails.
 */
class CudaLayerTrafficTest {
    private static final int[] SHAPE = {4, 64, 8, 8};
    private static final List<String> REPORT = new ArrayList<>();

    @AfterAll
    static void report() {
        REPORT.forEach(System.out::println);
    }

    private record Traffic(double forwardT, long forwardLaunches, double backwardT, long backwardLaunches) {
    }

    /** Forward and backward of one training step, measured separately; empty on a real GPU. */
    private static Traffic measure(String what, Supplier<Module> factory) {
        try (Scope s = Scope.open()) {
            Module m = factory.get();
            Tensor x = gpu(cpuRandn(7, DType.F32, SHAPE)).requiresGrad(true);
            Tensor gy = gpu(cpuRandn(8, DType.F32, SHAPE));
            // one warm-up step: lazy module state (moving statistics, gate) is created outside the measurement
            m.forward(x).backward(gy);
            // a fresh input: its gradient is written, not accumulated into an earlier one
            Tensor x2 = gpu(cpuRandn(9, DType.F32, SHAPE)).requiresGrad(true);
            m.zeroGrad();
            Tensor[] y = new Tensor[1];
            Map<String, KernelCounters> f = new TreeMap<>();
            Map<String, KernelCounters> b = new TreeMap<>();
            Map<String, Long> fl = launchesDuring(() -> f.putAll(countersDuring(() -> y[0] = m.forward(x2))));
            Map<String, Long> bl = launchesDuring(() -> b.putAll(countersDuring(() -> y[0].backward(gy))));
            m.close();
            if (f.isEmpty()) {
                return null;
            }
            double t = (double) x.numel() * DType.F32.bytes();
            Traffic r = new Traffic(globalBytes(f) / t, launches(fl), globalBytes(b) / t, launches(bl));
            REPORT.add(String.format(Locale.ROOT, "%-28s forward %5.2f T %2d launches %s | backward %5.2f T %2d launches %s",
                    what, r.forwardT, r.forwardLaunches, perKernel(f, t), r.backwardT, r.backwardLaunches,
                    perKernel(b, t)));
            return r;
        }
    }

    /** kernel=T moved, per kernel name. */
    private static Map<String, String> perKernel(Map<String, KernelCounters> c, double t) {
        Map<String, String> out = new TreeMap<>();
        c.forEach((k, v) -> out.put(k, String.format(Locale.ROOT, "%.2f", v.globalBytes() / t)));
        return out;
    }

    private static long launches(Map<String, Long> perKernel) {
        return perKernel.values().stream().mapToLong(Long::longValue).sum();
    }

    private static void within(String what, double got, double budget) {
        assertTrue(got <= budget, String.format(Locale.ROOT, "%s: %.3f tensor-sized transfers, budget %.2f (%s)",
                what, got, budget, REPORT));
    }

    @Test
    void batchChannelNormStaysWithinOneNormPlusOneTransfer() {
        for (boolean estimate : new boolean[] {false, true}) {
            Traffic r = measure("BatchChannelNorm2d est=" + estimate, () -> BatchChannelNorm2d.builder(SHAPE[1])
                    .groups(8).estimate(estimate).dtype(DType.F32).device(device()).build());
            if (r == null) {
                return;
            }
            // one single-norm forward budget (3 T) plus one transfer; small vectors 0.1 T
            within("BCN est=" + estimate + " forward", r.forwardT, 3 + 1 + 0.1);
            // two chained norms, 2 T each: EstBN's moments, update and normalize are one fused launch
            within("BCN est=" + estimate + " forward launches", r.forwardLaunches, estimate ? 4 : 6);
            within("BCN est=" + estimate + " backward", r.backwardT, 5 + 1 + 0.2);
        }
    }

    @Test
    void batchRenormStaysWithinTheFitBudget() {
        Traffic r = measure("BatchRenorm2d", () -> BatchRenorm2d.builder(SHAPE[1]).dtype(DType.F32).device(device())
                .build());
        if (r == null) {
            return;
        }
        // one fused launch: read x, write y (+ per-channel vectors)
        within("BRN forward", r.forwardT, 2 + 0.1);
        within("BRN forward launches", r.forwardLaunches, 2);
        within("BRN backward", r.backwardT, 3 + 0.1);
    }

    /**
     * UBN runs as a chain of kernels and is over the single-norm budgets: this pins today's cost
     * so that it can only go down. Forward: gate cosine reads x (1), centering x -> xc (2), fused
     * BN xc -> x̂ (2), calibrate + depthwise conv x̂ -> z, y (3); backward: BN (3), calibrate
     * backward dy, x̂, z -> dx̂ (4), centering dxc -> dx (2).
     *
     * <p>The chain is not the floor. When a channel (its N planes) fits on chip, one block owning
     * it can do everything from shared memory: per-plane means (centering), channel moments,
     * x̂, per-plane b and s, the depthwise conv (a plane's halo is in the cached plane) and y,
     * plus the channel's partial Gram matrix for the gate (G_ij = Σ_c Σ_l x_icl·x_jcl, merged
     * across channels by a ticket): forward 2 T in one launch. When it does not fit, the
     * conv's halo needs the whole x̂ plane and x̂ needs the channel statistics, a grid-wide
     * dependency, so a statistics pass (per-plane moments, which give the centred moments
     * analytically, and Gram partials) and an apply pass are the floor: 3 T, 2 launches.
     * Backward likewise 3 T fused / 5 T streaming, recomputing x̂ and z from x.
     */
    @Test
    void unifiedBatchNormStaysAtItsStructuralFloor() {
        Traffic r = measure("UnifiedBatchNorm2d", () -> UnifiedBatchNorm2d.builder(SHAPE[1]).dtype(DType.F32)
                .device(device()).build());
        if (r == null) {
            return;
        }
        within("UBN forward", r.forwardT, 1 + 2 + 2 + 3 + 0.5);
        within("UBN backward", r.backwardT, 3 + 4 + 2 + 0.3);
        // cosine, center, fused BN, running update, calibrate, and the step counter's fill
        within("UBN forward launches", r.forwardLaunches, 7);
    }
}
