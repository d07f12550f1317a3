package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuDrivers;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every norm.cu kernel on the selected driver (the PTX emulator with its sanitizer by default)
 * against {@link NormReference}, in float32 and float64, on two plans: the production plan
 * (statistics fit on chip: fused kernels) and a shrunken one (no shared-memory budget, 32-thread
 * blocks, one vector per thread) that sends the same small tensors down the streaming kernels
 * with several blocks per statistic, so the grid-level ticket merges run too. Each call also
 * checks which kernels ran, i.e. the launches per op. Per-channel layouts with channels shorter
 * than a warp take the column kernels (norm_col_*), the others the statistic-geometry kernels.
 */
class CudaNormKernelsTest {
    private static final String MODULE = "norm";
    private static GpuDriver driver;
    private static CachingAllocator allocator;
    private static CudaNormEngine fused;
    private static CudaNormEngine streaming;
    private final List<DevicePointer> buffers = new ArrayList<>();

    enum Path { FUSED, STREAMING }

    @BeforeAll
    static void open() {
        driver = GpuDrivers.open();
        allocator = new CachingAllocator(driver, true);
        PtxModules modules = new PtxModules(driver, new LaunchLog());
        fused = new CudaNormEngine(modules, allocator);
        streaming = new CudaNormEngine(modules, allocator, new CudaNormPlan(0, 32, 1, 4));
        fused.ptx().recording(true);
        streaming.ptx().recording(true);
    }

    @AfterAll
    static void close() {
        allocator.emptyCache();
        assertEquals(0, driver.bytesInUse(), "the engines' workspaces were not returned to the allocator");
        driver.close();
    }

    @AfterEach
    void free() {
        buffers.forEach(driver::free);
        buffers.clear();
    }

    /** name, N, C, L, G, per-channel, affine, running statistics. */
    static Stream<Arguments> layouts() {
        Object[][] rows = {
            {"bn L=40 (scalar path)", 2, 4, 40, 1, true, true, true},
            {"bn L=64 (vector path)", 2, 3, 64, 1, true, true, true},
            {"bn N=1 L=36", 1, 3, 36, 1, true, false, true},
            {"bn columns L=9", 2, 4, 9, 1, true, true, true},
            {"bn columns N=1", 1, 3, 5, 1, true, false, true},
            {"bn columns L=3, 2 tiles, row chunks", 30, 7, 3, 1, true, true, true},
            {"bn1d columns L=1, row chunks", 20, 3, 1, 1, true, true, true},
            {"gn", 2, 6, 9, 3, false, true, false},
            {"gn vector path, no affine", 2, 8, 16, 4, false, false, false},
            {"gn L=40 (warp per channel)", 2, 4, 40, 2, false, true, false},
            {"gn one element per group", 2, 4, 1, 4, false, true, false},
            {"in", 2, 4, 9, 4, false, true, true},
            {"in vector path", 2, 3, 16, 3, false, true, true},
            {"ln 20", 6, 20, 1, 1, false, true, false},
            {"ln 64 (vector path)", 3, 64, 1, 1, false, true, false},
        };
        List<Arguments> out = new ArrayList<>();
        for (Object[] r : rows) {
            for (DType t : DType.values()) {
                for (Path p : Path.values()) {
                    Object[] a = new Object[r.length + 2];
                    System.arraycopy(r, 0, a, 0, r.length);
                    a[r.length] = t;
                    a[r.length + 1] = p;
                    out.add(Arguments.of(a));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {8} {9}")
    @MethodSource("layouts")
    @CoversKernels(module = MODULE, value = {"norm_fwd_fused_f32", "norm_fwd_fused_f64", "norm_moments_f32",
        "norm_moments_f64", "norm_normalize_f32", "norm_normalize_f64", "norm_update_running_f32",
        "norm_update_running_f64", "norm_col_fused_f32", "norm_col_fused_f64", "norm_col_stats_f32",
        "norm_col_stats_f64", "norm_col_apply_f32", "norm_col_apply_f64"})
    void forwardTrainMatchesTheSpec(String name, int n, int c, int l, int g, boolean perChannel, boolean affine,
                                    boolean running, DType t, Path path) {
        Case k = new Case(t, n, c, l, g, perChannel, affine, 1);
        CudaNormEngine e = path == Path.FUSED ? fused : streaming;
        e.ptx().drainLaunched();
        DevicePointer y = alloc(t, k.numel());
        DevicePointer mean = alloc(t, k.ref.stats());
        DevicePointer var = alloc(t, k.ref.stats());
        int instances = perChannel ? 1 : n;
        long count = perChannel ? (long) n * l : l;
        double factor = 0.1;
        double[] rm0 = values(c, 11, 0, 1);
        double[] rv0 = values(c, 12, 1, 0.5);
        DevicePointer rm = running ? upload(t, rm0) : null;
        DevicePointer rv = running ? upload(t, rv0) : null;
        // BatchNorm's step counter rides on the per-channel running update of every path.
        boolean counted = running && perChannel;
        double steps0 = 41;
        DevicePointer counter = counted ? upload(DType.F64, new double[] {steps0}) : null;
        e.forwardTrain(t, k.layout, k.devX, k.devW, k.devB, y, mean, var, 1e-5,
                running ? new CudaNormEngine.Running(rm, rv, instances, count, factor, counter) : null);

        double[][] mom = k.ref.moments(k.x);
        long m = k.ref.elementsPerStat();
        assertClose(name + " mean", t, m, mom[0], download(t, mean, k.ref.stats()));
        assertClose(name + " var", t, m, mom[1], download(t, var, k.ref.stats()));
        assertClose(name + " y", t, m, k.ref.normalize(k.x, mom[0], mom[1], 1e-5, k.w, k.b), download(t, y, k.numel()));
        boolean columns = perChannel && l < 32;
        List<String> expected = new ArrayList<>(columns
                ? (path == Path.FUSED ? List.of("norm_col_fused") : List.of("norm_col_stats", "norm_col_apply"))
                : path == Path.FUSED ? List.of("norm_fwd_fused") : List.of("norm_moments", "norm_normalize"));
        if (running && !perChannel && path == Path.FUSED) {
            expected.add("norm_update_running");
        }
        assertLaunched(e, t, expected);
        assertTrue(expected.size() <= 2, "a norm forward takes at most 2 launches");
        if (running) {
            double[][] r = NormReference.running(rm0, rv0, mom[0], mom[1], instances, count, factor);
            assertClose(name + " running_mean", t, m, r[0], download(t, rm, c));
            assertClose(name + " running_var", t, m, r[1], download(t, rv, c));
        }
        if (counted) {
            assertEquals(steps0 + 1, download(DType.F64, counter, 1)[0], name + " step counter bumped exactly once");
        }

        // moments and normalize on their own (the NormKernels calls the layers do not fuse)
        e.moments(t, k.layout, k.devX, mean, var);
        assertLaunched(e, t, List.of(columns ? "norm_col_stats" : "norm_moments"));
        assertClose(name + " moments().var", t, m, mom[1], download(t, var, k.ref.stats()));
        DevicePointer fixedMean = upload(t, values(k.ref.stats(), 13, 0, 1));
        DevicePointer fixedVar = upload(t, values(k.ref.stats(), 14, 1, 0.5));
        e.normalize(t, k.layout, k.devX, fixedMean, fixedVar, 1e-3, k.devW, k.devB, y);
        assertLaunched(e, t, List.of(columns ? "norm_col_apply" : "norm_normalize"));
        assertClose(name + " normalize()", t, m, k.ref.normalize(k.x, download(t, fixedMean, k.ref.stats()),
                download(t, fixedVar, k.ref.stats()), 1e-3, k.w, k.b), download(t, y, k.numel()));
    }

    @ParameterizedTest(name = "{0} {8} {9}")
    @MethodSource("layouts")
    @CoversKernels(module = MODULE, value = {"norm_bwd_fused_f32", "norm_bwd_fused_f64", "norm_bwd_sums_f32",
        "norm_bwd_sums_f64", "norm_bwd_dx_f32", "norm_bwd_dx_f64", "norm_bwd_channel_f32", "norm_bwd_channel_f64",
        "norm_col_fused_f32", "norm_col_fused_f64", "norm_col_stats_f32", "norm_col_stats_f64", "norm_col_apply_f32",
        "norm_col_apply_f64"})
    void backwardMatchesTheSpec(String name, int n, int c, int l, int g, boolean perChannel, boolean affine,
                                boolean running, DType t, Path path) {
        Case k = new Case(t, n, c, l, g, perChannel, affine, 2);
        CudaNormEngine e = path == Path.FUSED ? fused : streaming;
        e.ptx().drainLaunched();
        double[] dyv = values(k.numel(), 21, 0, 1);
        DevicePointer dy = upload(t, dyv);
        double[][] mom = k.ref.moments(k.x);
        DevicePointer mean = upload(t, mom[0]);
        DevicePointer var = upload(t, mom[1]);
        // what the kernels see: the statistics rounded to t
        double[] meanT = download(t, mean, k.ref.stats());
        double[] varT = download(t, var, k.ref.stats());
        DevicePointer dx = alloc(t, k.numel());
        DevicePointer dw = alloc(t, c);
        DevicePointer db = alloc(t, c);
        long m = k.ref.elementsPerStat();

        e.backward(t, k.layout, dy, k.devX, mean, var, 1e-5, k.devW, true, dx, dw, db);
        double[][] ref = k.ref.backward(dyv, k.x, meanT, varT, 1e-5, k.w, true);
        assertClose(name + " dx", t, m, ref[0], download(t, dx, k.numel()));
        assertClose(name + " dweight", t, (long) n * l, ref[1], download(t, dw, c));
        assertClose(name + " dbias", t, (long) n * l, ref[2], download(t, db, c));
        boolean columns = perChannel && l < 32;
        List<String> expected = columns
                ? (path == Path.FUSED ? List.of("norm_col_fused") : List.of("norm_col_stats", "norm_col_apply"))
                : path == Path.FUSED ? List.of("norm_bwd_fused") : List.of("norm_bwd_sums", "norm_bwd_dx");
        assertLaunched(e, t, expected);

        // dx only (no affine gradients), then affine gradients only
        e.backward(t, k.layout, dy, k.devX, mean, var, 1e-5, k.devW, true, dx, null, null);
        assertClose(name + " dx alone", t, m, ref[0], download(t, dx, k.numel()));
        assertLaunched(e, t, expected);
        e.backward(t, k.layout, dy, k.devX, mean, var, 1e-5, k.devW, true, null, dw, db);
        assertClose(name + " dweight alone", t, (long) n * l, ref[1], download(t, dw, c));
        assertClose(name + " dbias alone", t, (long) n * l, ref[2], download(t, db, c));
        assertLaunched(e, t, columns && path == Path.STREAMING ? List.of("norm_col_stats") : expected);

        if (!perChannel) {
            // constants under the per-group layout (not used by the layers, allowed by NormKernels)
            e.backward(t, k.layout, dy, k.devX, mean, var, 1e-5, k.devW, false, dx, dw, db);
            double[][] constant = k.ref.backward(dyv, k.x, meanT, varT, 1e-5, k.w, false);
            assertClose(name + " per-group constant dx", t, m, constant[0], download(t, dx, k.numel()));
            assertClose(name + " per-group constant dweight", t, (long) n * l, constant[1], download(t, dw, c));
            assertLaunched(e, t, expected);
        }

        // eval: constant per-channel statistics (running mean / var), one launch
        NormLayout evalLayout = NormLayout.perChannel(n, c, l);
        NormReference evalRef = new NormReference(n, c, l, 1, true);
        DevicePointer rm = upload(t, values(c, 23, 0, 1));
        DevicePointer rv = upload(t, values(c, 24, 1, 0.5));
        e.backward(t, evalLayout, dy, k.devX, rm, rv, 1e-5, k.devW, false, dx, dw, db);
        double[][] evalGrads = evalRef.backward(dyv, k.x, download(t, rm, c), download(t, rv, c), 1e-5, k.w, false);
        assertClose(name + " eval dx", t, (long) n * l, evalGrads[0], download(t, dx, k.numel()));
        assertClose(name + " eval dweight", t, (long) n * l, evalGrads[1], download(t, dw, c));
        assertClose(name + " eval dbias", t, (long) n * l, evalGrads[2], download(t, db, c));
        assertLaunched(e, t, List.of(l < 32 ? "norm_col_stats" : "norm_bwd_channel"));
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** Inputs of one case uploaded: x (with an offset of 3, so a one-pass variance would lose digits), w, b. */
    private final class Case {
        final NormLayout layout;
        final NormReference ref;
        final double[] x;
        final double[] w;
        final double[] b;
        final DevicePointer devX;
        final DevicePointer devW;
        final DevicePointer devB;

        Case(DType t, int n, int c, int l, int g, boolean perChannel, boolean affine, long seed) {
            layout = perChannel ? NormLayout.perChannel(n, c, l) : NormLayout.perGroup(n, c, l, g);
            ref = new NormReference(n, c, l, perChannel ? 1 : g, perChannel);
            x = values(n * c * l, seed, 3, 1);
            w = affine ? values(c, seed + 100, 1, 0.5) : null;
            b = affine ? values(c, seed + 200, 0, 1) : null;
            devX = upload(t, x);
            devW = affine ? upload(t, w) : null;
            devB = affine ? upload(t, b) : null;
        }

        int numel() {
            return x.length;
        }
    }

    private static void assertLaunched(CudaNormEngine e, DType t, List<String> bases) {
        List<String> want = bases.stream().map(s -> s + "_" + t.suffix()).toList();
        List<String> got = e.ptx().drainLaunched().stream().map(CudaNormPtx.Launch::kernel).toList();
        assertEquals(want, got, "kernels launched");
    }

    /** center + spread·u with u uniform in [-1, 1), rounded to float so both dtypes see the same inputs. */
    static double[] values(int count, long seed, double center, double spread) {
        Random r = new Random(seed);
        double[] v = new double[count];
        for (int i = 0; i < count; i++) {
            v[i] = (float) (center + spread * (2 * r.nextDouble() - 1));
        }
        return v;
    }

    private DevicePointer alloc(DType t, int count) {
        DevicePointer p = driver.alloc(Math.max(1, (long) count * t.bytes()));
        driver.memsetZero(p, 0, Math.max(1, (long) count * t.bytes()));
        buffers.add(p);
        return p;
    }

    private DevicePointer upload(DType t, double[] v) {
        DevicePointer p = alloc(t, v.length);
        if (t == DType.F64) {
            driver.copyToDevice(p, 0, v, 0, v.length);
        } else {
            float[] f = new float[v.length];
            for (int i = 0; i < f.length; i++) {
                f[i] = (float) v[i];
            }
            driver.copyToDevice(p, 0, f, 0, f.length);
        }
        return p;
    }

    private static double[] download(DType t, DevicePointer p, int count) {
        double[] out = new double[count];
        if (t == DType.F64) {
            driver.copyToHost(out, 0, p, 0, count);
        } else {
            float[] f = new float[count];
            driver.copyToHost(f, 0, p, 0, count);
            for (int i = 0; i < count; i++) {
                out[i] = f[i];
            }
        }
        return out;
    }

    /**
     * |got − ref| ≤ tol·(1 + |ref|) with tol = 16·(terms + 8)·u: rounding in a sum of {@code terms}
     * terms in any order, and a few roundings per element (u = 2^-24 or 2^-53). Reports the worst element.
     */
    static void assertClose(String what, DType t, long terms, double[] ref, double[] got) {
        assertEquals(ref.length, got.length, what + ": length");
        double u = t == DType.F32 ? 0x1p-24 : 0x1p-53;
        double tol = 16.0 * (terms + 8) * u;
        int worst = -1;
        double worstExcess = 0;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs(got[i] - ref[i]);
            maxDiff = Math.max(maxDiff, d);
            double excess = d - tol * (1 + Math.abs(ref[i]));
            if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s (%s): element %d is %s, expected %s (tolerance %.3g·(1+|ref|), max |diff| %.3g)",
                    what, t, worst, got[worst], ref[worst], tol, maxDiff));
        }
    }
}
