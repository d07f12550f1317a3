package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.eps;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.nn.Module;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shared by the Batch Renorm, Batch-Channel Norm, Switchable Norm and Unified BN kernel tests:
 * tolerances from the accumulation length, a layer parity run (the same module on the CPU and
 * on the GPU, several training steps, outputs, gradients and running state compared), the
 * "this family never fell back to the host" check and per-launch byte counters.
 */
final class CudaNormFamiliesTestSupport {
    private CudaNormFamiliesTestSupport() {
    }

    /**
     * Tolerance of a result built from sums of {@code length} terms: the GPU accumulates in the
     * dtype (error ~ length·u relative to the sum of magnitudes), the reference in float64. The
     * factor 4 covers the two or three further roundings of a normalize.
     */
    static double tol(DType t, long length) {
        return 4 * Math.max(1, length) * eps(t);
    }

    /** |ref| scale of a tensor's values (at least 1), so absolute tolerances follow magnitudes. */
    static double scale(double[] v) {
        double m = 1;
        for (double d : v) {
            if (Double.isFinite(d)) {
                m = Math.max(m, Math.abs(d));
            }
        }
        return m;
    }

    static void closeTo(double[] ref, double[] got, double tol, String what) {
        assertClose(ref, got, tol * scale(ref), tol, what);
    }

    /** Asserts that no op of {@code family} ran on the host fallback so far. */
    static void assertNoFallback(String family) {
        Map<String, Long> f = backend().launchLog().fallbackCounts();
        f.keySet().forEach(k -> {
            if (k.startsWith(family + ".")) {
                throw new AssertionError(family + " fell back to the CPU reference: " + f);
            }
        });
    }

    /** Counters of every launch {@code body} made, summed per kernel name (the emulator only). */
    static Map<String, KernelCounters> countersDuring(Runnable body) {
        Map<String, KernelCounters> out = new TreeMap<>();
        if (!(backend().driver() instanceof PtxEmulator emu)) {
            body.run();
            return out;
        }
        Map<String, KernelCounters> before = new TreeMap<>();
        backend().launchLog().launchCounts().keySet()
                .forEach(k -> emu.accumulatedCounters(k).ifPresent(c -> before.put(k, c)));
        Map<String, Long> launched = CudaTestSupport.launchesDuring(body);
        for (String k : launched.keySet()) {
            KernelCounters after = emu.accumulatedCounters(k).orElseThrow();
            KernelCounters b0 = before.get(k);
            out.put(k, b0 == null ? after : minus(after, b0));
        }
        return out;
    }

    private static KernelCounters minus(KernelCounters a, KernelCounters b) {
        return new KernelCounters(a.kernel(), a.warpInstructions() - b.warpInstructions(),
                a.threadInstructions() - b.threadInstructions(), a.globalLoadRequests() - b.globalLoadRequests(),
                a.globalStoreRequests() - b.globalStoreRequests(), a.globalLoadBytes() - b.globalLoadBytes(),
                a.globalStoreBytes() - b.globalStoreBytes(), a.globalLoadSectors() - b.globalLoadSectors(),
                a.globalStoreSectors() - b.globalStoreSectors(), a.sharedRequests() - b.sharedRequests(),
                a.sharedWavefronts() - b.sharedWavefronts(), a.branches() - b.branches(),
                a.divergentBranches() - b.divergentBranches(), a.barriers() - b.barriers(), a.atomics() - b.atomics());
    }

    /** Total global bytes of the launches, over every kernel. */
    static long globalBytes(Map<String, KernelCounters> c) {
        return c.values().stream().mapToLong(KernelCounters::globalBytes).sum();
    }

    /**
     * Copies values into a parameter or buffer in place on its own device (both modules then
     * start from the same, non-default state).
     */
    static void set(Tensor target, double[] values) {
        Tensor src = Tensor.fromDoubles(values, target.shape(), target.dtype(), target.device());
        target.backend().copy(src, target);
        src.close();
    }

    /**
     * The same layer on the CPU and on the GPU: parameters set to the same random values, then
     * {@code steps} forward/backward steps with loss Σ y·w on the same inputs; outputs, input
     * gradients and parameter gradients compared at every step, buffers at the end.
     *
     * @param tol relative (and, scaled by magnitude, absolute) tolerance
     */
    static void parity(Module cpu, Module gpu, DType t, int[] shape, int steps, double tol, long seed, String what) {
        Map<String, Long> fallbacksBefore = backend().launchLog().fallbackCounts();
        if (backend().driver() instanceof PtxEmulator emu
                && !"false".equals(System.getProperty(CudaBackend.SANITIZER_PROPERTY))) {
            // bounds, alignment, uninitialized shared reads and barrier divergence are checked
            assertEquals(true, emu.options().sanitizer(), what + ": the emulator's sanitizer is on");
        }
        long s = seed;
        for (Map.Entry<String, Tensor> e : cpu.namedParameters().entrySet()) {
            double[] v = cpuRandn(s++, DType.F64, (int) e.getValue().numel()).toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                v[i] = 1 + 0.5 * v[i];
            }
            set(e.getValue(), v);
            set(gpu.namedParameters().get(e.getKey()), v);
        }
        for (int step = 0; step < steps; step++) {
            Tensor x = cpuRandn(s++, t, shape);
            double[] xv = x.toDoubleArray();
            for (int i = 0; i < xv.length; i++) {
                // a mean far from 0 per sample and channel makes the statistics differ visibly
                xv[i] = 2 * xv[i] + 0.5 * ((i / shape[3]) % 3) - 0.25;
            }
            Tensor xc = Tensor.fromDoubles(xv, x.shape(), t, io.jnorm.tensor.Device.CPU).requiresGrad(true);
            Tensor xg = gpu(xc).requiresGrad(true);
            Tensor w = cpuRandn(s++, t, shape);
            Tensor yc = cpu.forward(xc);
            Tensor yg = gpu.forward(xg);
            String at = what + " step " + step;
            closeTo(yc.toDoubleArray(), yg.toDoubleArray(), tol, at + ": y");
            Ops.sum(Ops.mul(yc, w)).backward();
            Ops.sum(Ops.mul(yg, gpu(w))).backward();
            closeTo(xc.grad().toDoubleArray(), xg.grad().toDoubleArray(), tol, at + ": dx");
            for (Map.Entry<String, Tensor> e : cpu.namedParameters().entrySet()) {
                Tensor gc = e.getValue().grad();
                Tensor gg = gpu.namedParameters().get(e.getKey()).grad();
                assertEquals(gc == null, gg == null, at + ": gradient presence of " + e.getKey());
                if (gc != null) {
                    closeTo(gc.toDoubleArray(), gg.toDoubleArray(), tol, at + ": grad of " + e.getKey());
                }
            }
            cpu.zeroGrad();
            gpu.zeroGrad();
        }
        for (Map.Entry<String, Tensor> e : cpu.namedBuffers().entrySet()) {
            closeTo(e.getValue().toDoubleArray(), gpu.namedBuffers().get(e.getKey()).toDoubleArray(), tol,
                    what + ": buffer " + e.getKey() + " after " + steps + " steps");
        }
        // Every kernel of the layer, the shared norm kernels included, ran on the GPU.
        assertEquals(fallbacksBefore, backend().launchLog().fallbackCounts(), what + ": host fallbacks");
    }
}
