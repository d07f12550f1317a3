package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static io.jnorm.gpu.emu.EmuTestSupport.assertClose;
import static io.jnorm.gpu.emu.EmuTestSupport.toDouble;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whole kernels compiled by nvcc (test resource kernels.ptx) against plain-Java references. */
class KernelsTest {
    private PtxEmulator emu;
    private GpuModule mod;

    @BeforeEach
    void setUp() {
        emu = new PtxEmulator();
        mod = emu.loadModule("kernels.ptx", EmuTestSupport.resource("kernels.ptx"));
    }

    @AfterEach
    void tearDown() {
        emu.close();
    }

    private static double[] randoms(int n, long seed) {
        Random r = new Random(seed);
        double[] d = new double[n];
        for (int i = 0; i < n; i++) {
            d[i] = r.nextDouble() * 2 - 1;
        }
        return d;
    }

    private static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 31, 1000, 4099})
    void blockReductionF32AndF64(int n) {
        double[] x = randoms(n, n);
        float[] xf = floats(x);
        double ref32 = 0;
        double ref64 = 0;
        for (int i = 0; i < n; i++) {
            ref32 += xf[i];
            ref64 += x[i];
        }
        DevicePointer in32 = emu.alloc(4L * n);
        DevicePointer in64 = emu.alloc(8L * n);
        DevicePointer out32 = emu.alloc(4);
        DevicePointer out64 = emu.alloc(8);
        emu.copyToDevice(in32, 0, xf, 0, n);
        emu.copyToDevice(in64, 0, x, 0, n);
        emu.memsetZero(out32, 0, 4);
        emu.memsetZero(out64, 0, 8);
        LaunchConfig cfg = LaunchConfig.of1d(3, 128);
        emu.launch(emu.kernel(mod, "reduce_f32"), cfg, KernelArgs.of().ptr(in32).ptr(out32).i32(n));
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        emu.launch(emu.kernel(mod, "reduce_f64"), cfg, KernelArgs.of().ptr(in64).ptr(out64).i32(n));
        float[] r32 = new float[1];
        double[] r64 = new double[1];
        emu.copyToHost(r32, 0, out32, 0, 1);
        emu.copyToHost(r64, 0, out64, 0, 1);
        assertEquals(ref32, r32[0], 1e-5 * Math.max(1, Math.abs(ref32)) + 1e-5, "f32 sum");
        assertEquals(ref64, r64[0], 1e-12, "f64 sum");
        assertEquals(3, c.atomics(), "one atomic request per block");
        assertEquals(3 * 4, c.barriers(), "one bar.sync per warp");
    }

    @Test
    void gridStrideAxpy() {
        int n = 3001;
        double[] x = randoms(n, 1);
        double[] y = randoms(n, 2);
        DevicePointer dx = emu.alloc(8L * n);
        DevicePointer dy = emu.alloc(8L * n);
        emu.copyToDevice(dx, 0, x, 0, n);
        emu.copyToDevice(dy, 0, y, 0, n);
        emu.launch(emu.kernel(mod, "axpy_f64"), LaunchConfig.of1d(4, 64),
                KernelArgs.of().f64(0.5).ptr(dx).ptr(dy).i64(n));
        double[] out = new double[n];
        emu.copyToHost(out, 0, dy, 0, n);
        double[] ref = new double[n];
        for (int i = 0; i < n; i++) {
            ref[i] = Math.fma(0.5, x[i], y[i]);
        }
        assertArrayEquals(ref, out, 0.0, "fma.rn.f64 must be bit-exact");

        float[] xf = floats(x);
        float[] yf = floats(y);
        DevicePointer fx = emu.alloc(4L * n);
        DevicePointer fy = emu.alloc(4L * n);
        emu.copyToDevice(fx, 0, xf, 0, n);
        emu.copyToDevice(fy, 0, yf, 0, n);
        emu.launch(emu.kernel(mod, "axpy_f32"), LaunchConfig.of1d(2, 96),
                KernelArgs.of().f32(-1.25f).ptr(fx).ptr(fy).i64(n));
        float[] outf = new float[n];
        emu.copyToHost(outf, 0, fy, 0, n);
        for (int i = 0; i < n; i++) {
            assertEquals(Math.fma(-1.25f, xf[i], yf[i]), outf[i], 0f, "element " + i);
        }
    }

    @Test
    void crossBlockAtomics() {
        int n = 1000;
        int buckets = 7;
        double[] x = randoms(n, 3);
        float[] xf = floats(x);
        DevicePointer in = emu.alloc(8L * n);
        DevicePointer out = emu.alloc(8L * buckets);
        DevicePointer inf = emu.alloc(4L * n);
        DevicePointer outf = emu.alloc(4L * buckets);
        emu.copyToDevice(in, 0, x, 0, n);
        emu.copyToDevice(inf, 0, xf, 0, n);
        emu.memsetZero(out, 0, 8L * buckets);
        emu.memsetZero(outf, 0, 4L * buckets);
        LaunchConfig cfg = LaunchConfig.of1d((n + 127) / 128, 128);
        emu.launch(emu.kernel(mod, "atomic_buckets_f64"), cfg, KernelArgs.of().ptr(in).ptr(out).i32(n).i32(buckets));
        emu.launch(emu.kernel(mod, "atomic_buckets_f32"), cfg, KernelArgs.of().ptr(inf).ptr(outf).i32(n).i32(buckets));
        double[] ref = new double[buckets];
        double[] reff = new double[buckets];
        for (int i = 0; i < n; i++) {
            ref[i % buckets] += x[i];
            reff[i % buckets] += xf[i];
        }
        double[] got = new double[buckets];
        float[] gotf = new float[buckets];
        emu.copyToHost(got, 0, out, 0, buckets);
        emu.copyToHost(gotf, 0, outf, 0, buckets);
        assertClose(ref, got, 1e-12, 0, "f64 buckets");
        assertClose(reff, toDouble(gotf), 1e-4, 1e-5, "f32 buckets");

        int[] vals = new int[n];
        Random r = new Random(5);
        for (int i = 0; i < n; i++) {
            vals[i] = r.nextInt(1_000_000);
        }
        int bins = 10;
        DevicePointer dv = emu.alloc(4L * n);
        DevicePointer dh = emu.alloc(4L * (bins + 2));
        emu.copyToDevice(dv, 0, vals, 0, n);
        int[] init = new int[bins + 2];
        init[bins + 1] = -1;
        emu.copyToDevice(dh, 0, init, 0, bins + 2);
        emu.launch(emu.kernel(mod, "histogram_u32"), cfg, KernelArgs.of().ptr(dv).ptr(dh).i32(n).i32(bins));
        int[] hist = new int[bins + 2];
        emu.copyToHost(hist, 0, dh, 0, bins + 2);
        int[] refh = new int[bins + 2];
        refh[bins + 1] = Integer.MAX_VALUE;
        for (int v : vals) {
            refh[v % bins]++;
            refh[bins] = Math.max(refh[bins], v);
            refh[bins + 1] = Math.min(refh[bins + 1], v);
        }
        assertArrayEquals(refh, hist);
    }

    @ParameterizedTest
    @ValueSource(strings = {"f32", "f64"})
    void tiledMatmul(String dtype) {
        int m = 37;
        int n = 21;
        int k = 45;
        double[] a = randoms(m * k, 7);
        double[] b = randoms(k * n, 8);
        boolean f32 = dtype.equals("f32");
        int es = f32 ? 4 : 8;
        DevicePointer da = emu.alloc((long) es * a.length);
        DevicePointer db = emu.alloc((long) es * b.length);
        DevicePointer dc = emu.alloc((long) es * m * n);
        if (f32) {
            emu.copyToDevice(da, 0, floats(a), 0, a.length);
            emu.copyToDevice(db, 0, floats(b), 0, b.length);
        } else {
            emu.copyToDevice(da, 0, a, 0, a.length);
            emu.copyToDevice(db, 0, b, 0, b.length);
        }
        GpuKernel kern = emu.kernel(mod, "matmul_" + dtype);
        emu.launch(kern, new LaunchConfig((n + 15) / 16, (m + 15) / 16, 1, 16, 16, 1, 0),
                KernelArgs.of().ptr(da).ptr(db).ptr(dc).i32(m).i32(n).i32(k));
        double[] got = new double[m * n];
        if (f32) {
            float[] g = new float[m * n];
            emu.copyToHost(g, 0, dc, 0, m * n);
            got = toDouble(g);
        } else {
            emu.copyToHost(got, 0, dc, 0, m * n);
        }
        double[] ref = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int q = 0; q < k; q++) {
                    s += (f32 ? (float) a[i * k + q] : a[i * k + q]) * (f32 ? (float) b[q * n + j] : b[q * n + j]);
                }
                ref[i * n + j] = s;
            }
        }
        assertClose(ref, got, f32 ? 1e-5 : 1e-13, f32 ? 1e-5 : 1e-13, "matmul " + dtype);
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        assertTrue(c.sharedRequests() > 0);
        assertTrue(c.divergentBranches() >= 0 && c.barriers() > 0);
    }

    @Test
    void strictModeAndWorkersGiveTheSameResultOnCorrectKernels() {
        int m = 20;
        int n = 33;
        int k = 17;
        double[] a = randoms(m * k, 9);
        double[] b = randoms(k * n, 10);
        double[][] results = new double[3][];
        EmulatorOptions[] opts = {EmulatorOptions.defaults(), EmulatorOptions.defaults().withStrict(42),
            EmulatorOptions.defaults().withWorkerThreads(2)};
        KernelCounters[] counters = new KernelCounters[3];
        for (int v = 0; v < 3; v++) {
            try (PtxEmulator e = new PtxEmulator(opts[v])) {
                GpuModule md = e.loadModule("kernels.ptx", EmuTestSupport.resource("kernels.ptx"));
                DevicePointer da = e.alloc(8L * a.length);
                DevicePointer db = e.alloc(8L * b.length);
                DevicePointer dc = e.alloc(8L * m * n);
                e.copyToDevice(da, 0, a, 0, a.length);
                e.copyToDevice(db, 0, b, 0, b.length);
                e.launch(e.kernel(md, "matmul_f64"), new LaunchConfig(3, 2, 1, 16, 16, 1, 0),
                        KernelArgs.of().ptr(da).ptr(db).ptr(dc).i32(m).i32(n).i32(k));
                results[v] = new double[m * n];
                e.copyToHost(results[v], 0, dc, 0, m * n);
                counters[v] = e.lastLaunchCounters().orElseThrow();
            }
        }
        assertArrayEquals(results[0], results[1], 0.0);
        assertArrayEquals(results[0], results[2], 0.0);
        assertEquals(counters[0], counters[2], "counters must not depend on the number of workers");
    }
}
