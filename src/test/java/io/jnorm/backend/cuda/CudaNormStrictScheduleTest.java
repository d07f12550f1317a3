package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaNormKernelsTest.assertClose;
import static io.jnorm.backend.cuda.CudaNormKernelsTest.values;

import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The norm kernels under the emulator's strict schedule (randomized block order, warp order and
 * time slices, sanitizer on), for several seeds: a missing barrier, a thread reading shared
 * memory another thread has not written yet, or a ticket merge that assumes the last block is
 * the highest one would change the result or trip the sanitizer here. Covers every kernel family
 * on multi-block grids: fused, streaming with several chunks per statistic, column tiles with
 * row chunks.
 */
class CudaNormStrictScheduleTest {
    /** One strict emulator per seed, with its engines (loading norm.ptx once per seed). */
    private record Seeded(GpuDriver driver, CachingAllocator allocator, CudaNormEngine fused,
                          CudaNormEngine streaming) {
    }

    private static final Map<Long, Seeded> DRIVERS = new HashMap<>();

    private static Seeded seeded(long seed) {
        return DRIVERS.computeIfAbsent(seed, s -> {
            GpuDriver d = new PtxEmulator(EmulatorOptions.defaults().withStrict(s));
            CachingAllocator a = new CachingAllocator(d, true);
            PtxModules m = new PtxModules(d, new LaunchLog());
            return new Seeded(d, a, new CudaNormEngine(m, a), new CudaNormEngine(m, a, new CudaNormPlan(0, 32, 1, 4)));
        });
    }

    @AfterAll
    static void close() {
        DRIVERS.values().forEach(s -> {
            s.allocator().emptyCache();
            s.driver().close();
        });
    }

    static Stream<Arguments> cases() {
        Object[][] layouts = {
            {"bn L=40", NormLayout.perChannel(3, 4, 40)},
            {"gn L=40", NormLayout.perGroup(2, 4, 40, 2)},
            {"ln 24", NormLayout.perGroup(5, 24, 1, 1)},
            {"in", NormLayout.perGroup(2, 3, 20, 3)},
            {"bn columns L=3", NormLayout.perChannel(30, 7, 3)},
            {"bn1d columns", NormLayout.perChannel(40, 5, 1)},
        };
        List<Arguments> out = new ArrayList<>();
        for (Object[] l : layouts) {
            for (long seed = 1; seed <= 2; seed++) {
                out.add(Arguments.of(l[0], l[1], seed, false));
                out.add(Arguments.of(l[0], l[1], seed, true));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} seed={2} streaming={3}")
    @MethodSource("cases")
    void resultsDoNotDependOnTheSchedule(String name, NormLayout layout, long seed, boolean streaming) {
        DType t = DType.F32;
        Seeded sd = seeded(seed);
        GpuDriver driver = sd.driver();
        CudaNormEngine e = streaming ? sd.streaming() : sd.fused();
        boolean perChannel = layout.reduction() == NormLayout.Reduction.PER_CHANNEL;
        NormReference ref = new NormReference(layout.n(), layout.c(), layout.l(), layout.groups(), perChannel);
        int numel = layout.numel();
        int c = layout.c();
        int stats = layout.statCount();
        double[] x = values(numel, seed, 3, 1);
        double[] w = values(c, seed + 1, 1, 0.5);
        double[] b = values(c, seed + 2, 0, 1);
        double[] dy = values(numel, seed + 3, 0, 1);
        List<DevicePointer> bufs = new ArrayList<>();
        DevicePointer dx = upload(driver, bufs, x);
        DevicePointer dw = upload(driver, bufs, w);
        DevicePointer db = upload(driver, bufs, b);
        DevicePointer ddy = upload(driver, bufs, dy);
        DevicePointer y = upload(driver, bufs, new double[numel]);
        DevicePointer mean = upload(driver, bufs, new double[stats]);
        DevicePointer var = upload(driver, bufs, new double[stats]);
        DevicePointer gx = upload(driver, bufs, new double[numel]);
        DevicePointer gw = upload(driver, bufs, new double[c]);
        DevicePointer gb = upload(driver, bufs, new double[c]);

        e.forwardTrain(t, layout, dx, dw, db, y, mean, var, 1e-5, null);
        double[][] mom = ref.moments(x);
        long m = layout.elementsPerStat();
        assertClose(name + " var", t, m, mom[1], download(driver, var, stats));
        assertClose(name + " y", t, m, ref.normalize(x, mom[0], mom[1], 1e-5, w, b), download(driver, y, numel));

        double[] meanT = download(driver, mean, stats);
        double[] varT = download(driver, var, stats);
        e.backward(t, layout, ddy, dx, mean, var, 1e-5, dw, true, gx, gw, gb);
        double[][] g = ref.backward(dy, x, meanT, varT, 1e-5, w, true);
        assertClose(name + " dx", t, m, g[0], download(driver, gx, numel));
        assertClose(name + " dweight", t, (long) layout.n() * layout.l(), g[1], download(driver, gw, c));
        assertClose(name + " dbias", t, (long) layout.n() * layout.l(), g[2], download(driver, gb, c));
        bufs.forEach(driver::free);
    }

    private static DevicePointer upload(GpuDriver d, List<DevicePointer> bufs, double[] v) {
        DevicePointer p = d.alloc(Math.max(4, 4L * v.length));
        bufs.add(p);
        float[] f = new float[v.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) v[i];
        }
        d.copyToDevice(p, 0, f, 0, f.length);
        return p;
    }

    private static double[] download(GpuDriver d, DevicePointer p, int count) {
        float[] f = new float[count];
        d.copyToHost(f, 0, p, 0, count);
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = f[i];
        }
        return out;
    }
}
