package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.Pool2dSpec;
import io.jnorm.backend.cuda.CudaLinalgLaunchers.Gemm;
import io.jnorm.backend.cuda.CudaWeightStandardizationLaunchers.Variant;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The heavy kernels do not depend on a scheduling accident: run under the emulator's strict
 * mode (random block, warp and lane-group order and time slices), every result is bit-identical
 * to the deterministic schedule's. All of them are deterministic by design (no atomics; split-K
 * and reductions sum in a fixed order), so any difference would be a missing barrier or a race.
 */
class HeavyKernelsScheduleTest {

    /** Every output of a fixed workload, in float32, on one driver. */
    private static List<double[]> run(PtxEmulator emulator) {
        List<double[]> out = new ArrayList<>();
        DType t = DType.F32;
        try (KernelBench bench = new KernelBench(emulator)) {
            CudaConvLaunchers conv = new CudaConvLaunchers(bench.modules, bench.allocator);
            CudaWeightStandardizationLaunchers ws = new CudaWeightStandardizationLaunchers(bench.modules, bench.allocator, conv);
            CudaConvGeometry g = new CudaConvGeometry(2, 4, 6, 6, 6, 3, 3, new Conv2dSpec(1, 1, 1, 1, 1, 1, 2));
            int xs = 2 * 4 * 36;
            int ys = 2 * 6 * 36;
            int wsz = 6 * 18;
            DevicePointer x = bench.upload(t, uniform(xs, 1));
            DevicePointer w = bench.upload(t, uniform(wsz, 2));
            DevicePointer dy = bench.upload(t, uniform(ys, 3));
            DevicePointer y = bench.alloc(t, ys);
            Variant v = new Variant(0, 1e-5, true);
            ws.convForward(t, x, w, null, y, g, v);
            out.add(bench.download(t, y, ys));
            DevicePointer dx = bench.alloc(t, xs);
            ws.convBackwardInput(t, dy, w, dx, g, v);
            out.add(bench.download(t, dx, xs));
            DevicePointer dw = bench.alloc(t, wsz);
            ws.convBackwardWeight(t, dy, x, w, dw, g, v, 3);
            out.add(bench.download(t, dw, wsz));
            conv.backwardWeight(t, dy, x, dw, g, 2);
            out.add(bench.download(t, dw, wsz));

            DevicePointer c = bench.alloc(t, 40 * 36);
            new CudaLinalgLaunchers(bench.modules).gemm(t, bench.upload(t, uniform(40 * 20, 4)),
                    bench.upload(t, uniform(20 * 36, 5)), c, Gemm.of(40, 36, 20, false, false));
            out.add(bench.download(t, c, 40 * 36));

            DevicePointer p = bench.alloc(t, xs);
            new CudaPoolLaunchers(bench.modules).maxBackward(t, x, bench.upload(t, uniform(2 * 4 * 9, 6)), p, 8, 6, 6,
                    new Pool2dSpec(3, 3, 2, 2, 1, 1));
            out.add(bench.download(t, p, xs));

            CudaLossLaunchers loss = new CudaLossLaunchers(bench.modules);
            DevicePointer lp = bench.alloc(t, 12 * 40);
            DevicePointer l = bench.alloc(t, 1);
            loss.crossEntropy(t, bench.upload(t, uniform(12 * 40, 7)), bench.upload(t, new double[12]), lp, l, 12, 40);
            out.add(bench.download(t, lp, 12 * 40));
            out.add(bench.download(t, l, 1));
        }
        return out;
    }

    @Test
    void strictSchedulesGiveBitIdenticalResults() {
        List<double[]> reference = run(new PtxEmulator(EmulatorOptions.defaults()));
        for (long seed : new long[] {7}) {
            List<double[]> strict = run(new PtxEmulator(EmulatorOptions.defaults().withStrict(seed)));
            for (int i = 0; i < reference.size(); i++) {
                assertArrayEquals(reference.get(i), strict.get(i), 0.0, "output " + i + " under strict seed " + seed);
            }
        }
    }
}
