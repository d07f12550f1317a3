package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuDrivers;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kernel quality of the norm family, measured with the emulator's counters (issue 5's budgets),
 * and failing on regression:
 * <ul>
 *   <li>global bytes per op in tensor-sized transfers T = numel·sizeof(dtype): forward ≤ 2 when a
 *       statistic fits on chip, ≤ 3 when it streams; backward ≤ 3 / ≤ 5, eval backward ≤ 3.
 *       Grid partials, tickets and re-staged weights are allowed
 *       0.1·T on top, and per-statistic / per-channel vectors 4 moves each;</li>
 *   <li>coalescing: bytes requested / (32 · sectors touched) ≥ 0.9 for every launch (16-byte
 *       vectors of full warps touch exactly the sectors they need; the statistics here hold 256+
 *       elements, so the per-statistic scalar accesses outside the main loops stay a few percent);</li>
 *   <li>launches: each forward ≤ 2.</li>
 * </ul>
 * Each case prints one report line (bytes/T, efficiency, launches).
 */
class CudaNormBudgetTest {
    private static GpuDriver driver;
    private static CudaNormEngine engine;
    private static final List<String> REPORT = new ArrayList<>();

    @BeforeAll
    static void open() {
        Assumptions.assumeTrue(GpuDrivers.selected() == GpuDrivers.Kind.EMULATOR,
                "counters come from the emulator; on a GPU use Nsight Compute");
        // Counters do not depend on the sanitizer, and the correctness tests run with it on.
        driver = new PtxEmulator(EmulatorOptions.fast());
        engine = new CudaNormEngine(new PtxModules(driver, new LaunchLog()), new CachingAllocator(driver, true));
        engine.ptx().recording(true);
    }

    @AfterAll
    static void close() {
        if (driver != null) {
            driver.close();
        }
        REPORT.forEach(System.out::println);
    }

    /**
     * name, layout, running statistics, whether a statistic fits on chip with the production plan.
     * Column layouts (L &lt; 32) use rows of a multiple of 32 bytes so that "ideal" is 4 sectors per
     * f32 warp request (a misaligned row start costs one more sector per request, also for the ideal).
     */
    static Stream<Arguments> cases() {
        Object[][] layouts = {
            {"bn", NormLayout.perChannel(4, 8, 256), true, true},
            {"gn", NormLayout.perGroup(4, 8, 256, 4), false, true},
            {"in+running", NormLayout.perGroup(4, 8, 256, 8), true, true},
            {"ln", NormLayout.perGroup(32, 512, 1, 1), false, true},
            {"bn1d columns", NormLayout.perChannel(64, 256, 1), true, true},
            {"bn columns L=4", NormLayout.perChannel(32, 64, 4), true, true},
            {"bn large", NormLayout.perChannel(4, 2, 4096), true, false},
            {"gn large", NormLayout.perGroup(2, 4, 4096, 1), false, false},
            {"in+running large", NormLayout.perGroup(2, 2, 12288, 2), true, false},
            {"ln large", NormLayout.perGroup(3, 12288, 1, 1), false, false},
            {"bn1d columns large", NormLayout.perChannel(512, 64, 1), true, false},
        };
        List<Arguments> out = new ArrayList<>();
        for (Object[] l : layouts) {
            for (DType t : DType.values()) {
                out.add(Arguments.of(l[0], l[1], l[2], t, l[3]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {3} fits={4}")
    @MethodSource("cases")
    @CoversKernels(module = CudaNormPtx.MODULE, value = {"norm_fwd_fused_f32", "norm_fwd_fused_f64",
        "norm_moments_f32", "norm_moments_f64", "norm_normalize_f32", "norm_normalize_f64", "norm_update_running_f32",
        "norm_update_running_f64", "norm_bwd_fused_f32", "norm_bwd_fused_f64", "norm_bwd_sums_f32", "norm_bwd_sums_f64",
        "norm_bwd_dx_f32", "norm_bwd_dx_f64", "norm_bwd_channel_f32", "norm_bwd_channel_f64", "norm_col_fused_f32",
        "norm_col_fused_f64", "norm_col_stats_f32", "norm_col_stats_f64", "norm_col_apply_f32", "norm_col_apply_f64"})
    void bytesCoalescingAndLaunchesStayWithinBudget(String name, NormLayout layout, boolean running, DType t,
                                                    boolean fits) {
        CudaNormEngine e = engine;
        e.ptx().drainLaunched();
        int numel = layout.numel();
        int c = layout.c();
        int stats = layout.statCount();
        List<DevicePointer> bufs = new ArrayList<>();
        DevicePointer x = fill(bufs, t, numel, 1);
        DevicePointer dy = fill(bufs, t, numel, 2);
        DevicePointer y = fill(bufs, t, numel, 3);
        DevicePointer dx = fill(bufs, t, numel, 4);
        DevicePointer w = fill(bufs, t, c, 5);
        DevicePointer b = fill(bufs, t, c, 6);
        DevicePointer dw = fill(bufs, t, c, 7);
        DevicePointer db = fill(bufs, t, c, 8);
        DevicePointer mean = fill(bufs, t, stats, 9);
        DevicePointer var = fill(bufs, t, stats, 10);
        DevicePointer rm = fill(bufs, t, c, 11);
        DevicePointer rv = fill(bufs, t, c, 12);
        boolean perChannel = layout.reduction() == NormLayout.Reduction.PER_CHANNEL;
        try {
            e.forwardTrain(t, layout, x, w, b, y, mean, var, 1e-5, running
                    ? new CudaNormEngine.Running(rm, rv, perChannel ? 1 : layout.n(), layout.elementsPerStat(), 0.1, null)
                    : null);
            long small = 4L * t.bytes() * (stats + c);
            Op fwd = measure(name + " forward", t, numel, small, e, fits ? 2 : 3);
            assertTrue(fwd.launches <= 2, name + ": forward took " + fwd.launches + " launches");
            assertEquals(fits, fwd.kernels.get(0).contains("fused"), name + ": fused kernels iff the statistic fits, ran "
                    + fwd.kernels);

            e.backward(t, layout, dy, x, mean, var, 1e-5, w, true, dx, dw, db);
            double bwdBudget = fits ? 3 : 5;
            measure(name + " backward", t, numel, small, e, bwdBudget);

            e.backward(t, NormLayout.perChannel(layout.n(), layout.c(), layout.l()), dy, x, rm, rv, 1e-5, w, false,
                    dx, dw, db);
            // per-channel constants: C statistics
            Op eval = measure(name + " eval backward", t, numel, 4L * t.bytes() * (c + c), e, 3);
            assertEquals(1, eval.launches, "eval backward is one launch");
        } finally {
            bufs.forEach(driver::free);
        }
    }

    private record Op(double transfers, int launches, List<String> kernels) {
    }

    /** Sums the counters of the launches since the last call and checks them against the budget. */
    private static Op measure(String what, DType t, int numel, long small, CudaNormEngine e, double budget) {
        List<CudaNormPtx.Launch> launches = e.ptx().drainLaunched();
        long bytes = 0;
        StringBuilder kernels = new StringBuilder();
        for (CudaNormPtx.Launch l : launches) {
            KernelCounters k = l.counters();
            bytes += k.globalBytes();
            long sectors = k.globalLoadSectors() + k.globalStoreSectors();
            double efficiency = sectors == 0 ? 1 : (double) k.globalBytes() / (32.0 * sectors);
            kernels.append(String.format(Locale.ROOT, " %s[eff %.2f, sectors/req ld %.1f st %.1f]", l.kernel(),
                    efficiency, k.loadSectorsPerRequest(), k.storeSectorsPerRequest()));
            assertTrue(efficiency >= 0.9, String.format(Locale.ROOT,
                    "%s: %s uses %.0f%% of the bytes of the sectors it touches (coalescing), expected >= 90%%",
                    what, l.kernel(), 100 * efficiency));
        }
        double tensor = (double) numel * t.bytes();
        double transfers = bytes / tensor;
        REPORT.add(String.format(Locale.ROOT, "%-32s %s  %5.2f T (budget %.0f)  launches %d %s", what, t,
                transfers, budget, launches.size(), kernels));
        assertTrue(bytes <= budget * tensor + 0.1 * tensor + small, String.format(Locale.ROOT,
                "%s (%s): %.3f tensor-sized transfers (%d bytes, T = %.0f), budget %.0f (+0.1·T + %d bytes of small vectors)",
                what, t, transfers, bytes, tensor, budget, small));
        return new Op(transfers, launches.size(), launches.stream().map(CudaNormPtx.Launch::kernel).toList());
    }

    private static DevicePointer fill(List<DevicePointer> bufs, DType t, int count, long seed) {
        DevicePointer p = driver.alloc((long) count * t.bytes());
        bufs.add(p);
        double[] v = CudaNormKernelsTest.values(count, seed, seed == 10 || seed == 12 ? 1 : 0, 0.5);
        if (t == DType.F64) {
            driver.copyToDevice(p, 0, v, 0, count);
        } else {
            float[] f = new float[count];
            for (int i = 0; i < count; i++) {
                f[i] = (float) v[i];
            }
            driver.copyToDevice(p, 0, f, 0, count);
        }
        return p;
    }
}
