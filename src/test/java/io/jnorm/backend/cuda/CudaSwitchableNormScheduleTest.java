package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.PtxResources;
import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The grid-level merges of the Switchable Norm and Unified BN kernels (the last-block tickets of
 * {@code sn_statistics}, {@code sn_backward_reduce} and {@code ubn_cosine}) under the emulator's
 * strict schedule (randomized block order, warp order and time slices, sanitizer on): their
 * results must be bit-for-bit those of the default schedule, since every merge runs in a fixed
 * order whichever block finishes last. Each kernel runs on multi-block grids that loop.
 */
class CudaSwitchableNormScheduleTest {
    private static final long[] SEEDS = {1, 2, 3};

    /** Runs {@code body} on a fresh emulator (strict with {@code seed}, or default when null). */
    private interface Body {
        List<float[]> run(GpuDriver d, GpuModule m);
    }

    private static List<float[]> on(Long seed, String module, Body body) {
        EmulatorOptions o = EmulatorOptions.defaults();
        try (GpuDriver d = new PtxEmulator(seed == null ? o : o.withStrict(seed))) {
            return body.run(d, d.loadModule(module + ".ptx", PtxResources.load(module)));
        }
    }

    private static DevicePointer upload(GpuDriver d, float[] v) {
        DevicePointer p = d.alloc(4L * v.length);
        d.copyToDevice(p, 0, v, 0, v.length);
        return p;
    }

    private static DevicePointer zeros(GpuDriver d, long bytes) {
        DevicePointer p = d.alloc(bytes);
        d.memsetZero(p, 0, bytes);
        return p;
    }

    private static float[] download(GpuDriver d, DevicePointer p, int n) {
        float[] out = new float[n];
        d.copyToHost(out, 0, p, 0, n);
        return out;
    }

    private static float[] randn(long seed, int n) {
        double[] v = Tensor.randn(new Rng(seed), Shape.of(n), DType.F64, io.jnorm.tensor.Device.CPU).toDoubleArray();
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = (float) (v[i] + 0.3 * (i % 7));
        }
        return f;
    }

    private static void assertScheduleFree(String module, Body body) {
        List<float[]> ref = on(null, module, body);
        for (long seed : SEEDS) {
            List<float[]> got = on(seed, module, body);
            for (int i = 0; i < ref.size(); i++) {
                assertArrayEquals(ref.get(i), got.get(i), module + " output " + i + " under strict seed " + seed);
            }
        }
    }

    @Test
    @CoversKernels(module = CudaSwitchableNorm.MODULE, value = {"sn_statistics_f32", "sn_backward_reduce_f32"})
    void switchableNormTicketsDoNotDependOnTheSchedule() {
        int n = 3;
        int c = 30;
        int l = 6;
        int rows = n * c;
        // 90 rows on 16 blocks: each block loops over several rows; L = 6 takes the scalar path
        LaunchConfig cfg = LaunchConfig.of1d(16, 32);
        assertScheduleFree(CudaSwitchableNorm.MODULE, (d, m) -> {
            DevicePointer x = upload(d, randn(1, rows * l));
            DevicePointer dy = upload(d, randn(2, rows * l));
            DevicePointer[] st = new DevicePointer[6];
            int[] sizes = {rows, rows, n, n, c, c};
            for (int i = 0; i < 6; i++) {
                st[i] = zeros(d, 4L * sizes[i]);
            }
            DevicePointer ticket = zeros(d, 4);
            d.launch(d.kernel(m, "sn_statistics_f32"), cfg, KernelArgs.of().ptr(x).i32(n).i32(c).i32(l).ptr(st[0])
                    .ptr(st[1]).ptr(st[2]).ptr(st[3]).ptr(st[4]).ptr(st[5]).ptr(ticket).i32(0));
            // Backward sums with the instance statistics as mean / rstd stand-ins.
            DevicePointer gamma = upload(d, randn(3, c));
            DevicePointer a = zeros(d, 4L * rows);
            DevicePointer b = zeros(d, 4L * rows);
            DevicePointer dg = zeros(d, 4L * c);
            DevicePointer db = zeros(d, 4L * c);
            DevicePointer sums = zeros(d, 8L * rows);
            d.launch(d.kernel(m, "sn_backward_reduce_f32"), cfg, KernelArgs.of().ptr(x).ptr(dy).ptr(st[0]).ptr(st[1])
                    .ptr(gamma).i32(n).i32(c).i32(l).ptr(a).ptr(b).ptr(dg).ptr(db).ptr(sums).ptr(ticket).i32(0));
            List<float[]> out = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                out.add(download(d, st[i], sizes[i]));
            }
            out.add(download(d, a, rows));
            out.add(download(d, b, rows));
            out.add(download(d, dg, c));
            out.add(download(d, db, c));
            return out;
        });
    }

    @Test
    @CoversKernels(module = CudaUnifiedBatchNorm.MODULE, value = {"ubn_cosine_f32"})
    void cosineGateTicketDoesNotDependOnTheSchedule() {
        int n = 40;
        int f = 150;
        // 3 sample blocks (6 block pairs) × 3 feature tiles = 18 blocks; partial Gram blocks of 256
        LaunchConfig cfg = new LaunchConfig(3, 6, 1, 256, 1, 1, 0);
        assertScheduleFree(CudaUnifiedBatchNorm.MODULE, (d, m) -> {
            DevicePointer x = upload(d, randn(4, n * f));
            DevicePointer partial = zeros(d, 8L * 256 * 18);
            DevicePointer ticket = zeros(d, 4);
            DevicePointer out = zeros(d, 8);
            d.launch(d.kernel(m, "ubn_cosine_f32"), cfg, KernelArgs.of().ptr(x).i32(n).i32(f).ptr(partial).ptr(ticket)
                    .ptr(out));
            double[] c = new double[1];
            d.copyToHost(c, 0, out, 0, 1);
            return List.of(new float[] {(float) c[0], (float) (c[0] - (float) c[0])});
        });
    }
}
