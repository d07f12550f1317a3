package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuDrivers;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Device buffers, CPU-reference tensors and tolerance checks for the kernel tests of the heavy
 * families. One bench per test class: it opens the selected driver (the PTX emulator with its
 * sanitizer by default) wrapped in a {@link RecordingDriver}, and frees what a test allocated.
 */
final class KernelBench implements AutoCloseable {

    final RecordingDriver driver;
    /** What the launchers need from a backend: the PTX modules and the allocator for temporaries. */
    final PtxModules modules;
    final CachingAllocator allocator;
    private final List<DevicePointer> buffers = new ArrayList<>();

    /** A bench on the driver the run selects (the emulator with its sanitizer by default). */
    KernelBench() {
        this(GpuDrivers.open());
    }

    /** A bench on a given driver, which it closes. */
    KernelBench(GpuDriver inner) {
        driver = new RecordingDriver(inner);
        modules = new PtxModules(driver, new LaunchLog());
        allocator = new CachingAllocator(driver, true);
    }

    DevicePointer upload(DType t, double[] v) {
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

    DevicePointer alloc(DType t, long count) {
        DevicePointer p = driver.alloc(Math.max(1, count) * t.bytes());
        buffers.add(p);
        return p;
    }

    /** A buffer filled with a sentinel, so a kernel that skips an output element is caught. */
    DevicePointer output(DType t, int count) {
        double[] nan = new double[count];
        java.util.Arrays.fill(nan, Double.NaN);
        return upload(t, nan);
    }

    double[] download(DType t, DevicePointer p, int count) {
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

    /** Frees this test's buffers and checks nothing else stayed allocated. */
    void freeAll() {
        buffers.forEach(driver::free);
        buffers.clear();
        assertEquals(0, allocator.bytesInUse(), "a launcher kept a temporary buffer");
        allocator.emptyCache();
        assertEquals(0, driver.bytesInUse(), "device memory leaked");
        driver.drain();
    }

    @Override
    public void close() {
        freeAll();
        driver.close();
    }

    /** Values in [-1, 1) exact in float, so float32 and float64 runs see the same inputs. */
    static double[] uniform(int n, long seed) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (2 * r.nextDouble() - 1);
        }
        return v;
    }

    static double[] abs(double[] v) {
        double[] a = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            a[i] = Math.abs(v[i]);
        }
        return a;
    }

    /** A float64 CPU tensor (the reference backend) holding {@code v}. */
    static Tensor cpu(double[] v, int... dims) {
        return Tensor.fromDoubles(v, Shape.of(dims), DType.F64, Device.CPU);
    }

    static Tensor cpuZeros(int... dims) {
        return Tensor.zeros(Shape.of(dims), DType.F64, Device.CPU);
    }

    /** Unit roundoff. */
    static double eps(DType t) {
        return t == DType.F32 ? 0x1p-24 : 0x1p-53;
    }

    /**
     * |got - ref| <= (terms + 2) * eps * absSum + 1e-300 per element: the bound of a sum of
     * {@code terms} products in any order, where absSum is the same sum over absolute values
     * (the reference rounds once, so it contributes one more unit). The message names the worst
     * element, its values and the max difference.
     */
    static void assertClose(String what, DType t, double[] ref, double[] got, double[] absSum, int terms) {
        assertEquals(ref.length, got.length, what + ": length");
        int worst = -1;
        double worstRatio = 0;
        double maxDiff = 0;
        int bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double tol = (terms + 2) * eps(t) * absSum[i] + 1e-300;
            double err = Math.abs(got[i] - ref[i]);
            boolean same = Double.compare(got[i], ref[i]) == 0;  // NaN == NaN, inf == inf
            if (!same) {
                maxDiff = Math.max(maxDiff, err);
            }
            if (!same && !(err <= tol)) {
                bad++;
                double ratio = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err / tol;
                if (worst < 0 || ratio > worstRatio) {
                    worst = i;
                    worstRatio = ratio;
                }
            }
        }
        if (bad > 0) {
            fail(String.format("%s (%s): %d of %d elements out of tolerance, max difference %.3g; worst [%d]: got %s, "
                            + "expected %s (%.1f x its tolerance)", what, t, bad, ref.length, maxDiff, worst, got[worst],
                    ref[worst], worstRatio));
        }
    }

    /** The launch's counters: required on the emulator (the default driver), absent on a GPU. */
    static KernelCounters counters(RecordingDriver.Launch launch) {
        if (GpuDrivers.selected() == GpuDrivers.Kind.EMULATOR && launch.counters() == null) {
            fail("the emulator reported no counters for " + launch.kernel());
        }
        return launch.counters();
    }
}
