package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.abs;
import static io.jnorm.backend.cuda.KernelBench.assertClose;
import static io.jnorm.backend.cuda.KernelBench.cpu;
import static io.jnorm.backend.cuda.KernelBench.cpuZeros;
import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.backend.Pool2dSpec;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * pool.ptx on the emulated GPU against the CPU reference pooling: overlapping and disjoint
 * windows, padding, rectangular kernels, N = 1; inputs with repeated values (ties) and a NaN, so
 * the first-maximum and NaN-wins rules of the max backward are exercised.
 */
class CudaPoolKernelsTest {

    private static KernelBench bench;
    private static CudaPoolLaunchers pool;

    @BeforeAll
    static void open() {
        bench = new KernelBench();
        pool = new CudaPoolLaunchers(bench.modules);
    }

    @AfterAll
    static void close() {
        bench.close();
    }

    @AfterEach
    void free() {
        bench.freeAll();
    }

    /** (n, c, h, w, spec). */
    static Stream<Arguments> cases() {
        Object[][] shapes = {
                {2, 3, 8, 8, new Pool2dSpec(2, 2, 2, 2, 0, 0)},
                {1, 2, 7, 9, new Pool2dSpec(3, 3, 2, 2, 1, 1)},
                {2, 2, 6, 5, new Pool2dSpec(3, 2, 1, 2, 1, 0)},
                {3, 5, 11, 13, new Pool2dSpec(2, 3, 1, 1, 1, 1)},
                // Two-wide stride-2 windows read as column pairs (even width) with row padding,
                // and the same windows on an odd width (scalar reads).
                {1, 2, 7, 10, new Pool2dSpec(3, 2, 2, 2, 1, 0)},
                {1, 2, 5, 7, new Pool2dSpec(2, 2, 2, 2, 0, 0)}};
        return Stream.of(shapes).flatMap(s -> Stream.of(DType.F32, DType.F64).map(t -> Arguments.of(t, s[0], s[1], s[2], s[3], s[4])));
    }

    /** Values on a coarse grid (many exact ties) with one NaN. */
    static double[] tiedInput(int size, long seed) {
        double[] x = uniform(size, seed);
        for (int i = 0; i < size; i++) {
            x[i] = Math.round(x[i] * 3) / 3.0;
        }
        x[size / 3] = Double.NaN;
        return x;
    }

    @ParameterizedTest(name = "{0} [{1},{2},{3},{4}] {5}")
    @MethodSource("cases")
    @CoversKernels(module = "pool", value = {"max_pool2d_fwd_f32", "max_pool2d_fwd_f64", "max_pool2d_bwd_f32",
            "max_pool2d_bwd_f64"})
    void maxPoolForwardAndBackward(DType t, int n, int c, int h, int w, Pool2dSpec s) {
        double[] x = tiedInput(n * c * h * w, 21);
        for (int i = 0; i < x.length; i++) {
            x[i] = t.round(x[i]);  // 1/3 steps: the reference must see the dtype's values to pick the same ties
        }
        int ySize = n * c * s.outH(h) * s.outW(w);
        double[] dy = uniform(ySize, 22);
        DevicePointer dx = bench.upload(t, x);
        DevicePointer y = bench.output(t, ySize);
        DevicePointer gx = bench.output(t, x.length);
        pool.maxForward(t, dx, y, n * c, h, w, s);
        pool.maxBackward(t, dx, bench.upload(t, dy), gx, n * c, h, w, s);
        assertEquals(List.of("max_pool2d_fwd_" + t.suffix(), "max_pool2d_bwd_" + t.suffix()), bench.driver.drainNames());

        try (Tensor tx = cpu(x, n, c, h, w); Tensor ty = cpuZeros(n, c, s.outH(h), s.outW(w));
             Tensor tdy = cpu(dy, n, c, s.outH(h), s.outW(w)); Tensor tdx = cpuZeros(n, c, h, w)) {
            tx.backend().pool().maxPool2dForward(tx, s, ty);
            tx.backend().pool().maxPool2dBackward(tx, tdy, s, tdx);
            double[] ref = ty.toDoubleArray();
            assertClose("max pool forward", t, ref, bench.download(t, y, ySize), abs(ref), 0);
            double[] refDx = tdx.toDoubleArray();
            // Gathered in the reference's order; float32 rounds after each of at most 9 additions.
            assertClose("max pool backward", t, refDx, bench.download(t, gx, x.length), bound(s, h, w, n * c, abs(dy)), 9);
        }
    }

    @ParameterizedTest(name = "{0} [{1},{2},{3},{4}] {5}")
    @MethodSource("cases")
    @CoversKernels(module = "pool", value = {"avg_pool2d_fwd_f32", "avg_pool2d_fwd_f64", "avg_pool2d_bwd_f32",
            "avg_pool2d_bwd_f64"})
    void avgPoolForwardAndBackward(DType t, int n, int c, int h, int w, Pool2dSpec s) {
        double[] x = uniform(n * c * h * w, 23);
        int ySize = n * c * s.outH(h) * s.outW(w);
        double[] dy = uniform(ySize, 24);
        DevicePointer y = bench.output(t, ySize);
        DevicePointer gx = bench.output(t, x.length);
        pool.avgForward(t, bench.upload(t, x), y, n * c, h, w, s);
        pool.avgBackward(t, bench.upload(t, dy), gx, n * c, h, w, s);
        assertEquals(List.of("avg_pool2d_fwd_" + t.suffix(), "avg_pool2d_bwd_" + t.suffix()), bench.driver.drainNames());

        try (Tensor tx = cpu(x, n, c, h, w); Tensor ax = cpu(abs(x), n, c, h, w);
             Tensor ty = cpuZeros(n, c, s.outH(h), s.outW(w)); Tensor aty = cpuZeros(n, c, s.outH(h), s.outW(w));
             Tensor tdy = cpu(dy, n, c, s.outH(h), s.outW(w)); Tensor tdx = cpuZeros(n, c, h, w)) {
            tx.backend().pool().avgPool2dForward(tx, s, ty);
            tx.backend().pool().avgPool2dForward(ax, s, aty);
            tx.backend().pool().avgPool2dBackward(tdy, s, tdx);
            int area = s.kernelH() * s.kernelW();
            assertClose("avg pool forward", t, ty.toDoubleArray(), bench.download(t, y, ySize), aty.toDoubleArray(), area + 1);
            assertClose("avg pool backward", t, tdx.toDoubleArray(), bench.download(t, gx, x.length),
                    bound(s, h, w, n * c, abs(dy)), area + 1);
        }
    }

    /** Per input pixel, the sum of |dy| over the windows that contain it. */
    private static double[] bound(Pool2dSpec s, int h, int w, int planes, double[] dyAbs) {
        try (Tensor tdy = cpu(dyAbs, planes, 1, s.outH(h), s.outW(w)); Tensor out = cpuZeros(planes, 1, h, w)) {
            tdy.backend().pool().avgPool2dBackward(tdy, s, out);
            double[] b = out.toDoubleArray();
            for (int i = 0; i < b.length; i++) {
                b[i] *= s.kernelH() * s.kernelW();
            }
            return b;
        }
    }
}
