package io.jnorm.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.GpuDrivers;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Shared by the cuda backend tests: the device under test (the emulated GPU, or cuda:0 under
 * -Djnorm.gpu=cuda as tools/run-gpu-suite sets it), inputs made on the CPU and copied over, a
 * tolerant comparison that names the worst element, and launch accounting.
 */
final class CudaTestSupport {
    private CudaTestSupport() {
    }

    /** The GPU the tests run on. */
    static Device device() {
        return GpuDrivers.selected() == GpuDrivers.Kind.CUDA ? Device.cuda(0) : Device.emulatedGpu();
    }

    static CudaBackend backend() {
        return CudaBackend.of(device());
    }

    /** Unit roundoff of a dtype. */
    static double eps(DType t) {
        return t == DType.F32 ? 0x1p-24 : 0x1p-53;
    }

    /** Values from a seeded normal distribution, as a CPU tensor (rounded to the dtype). */
    static Tensor cpuRandn(long seed, DType t, int... dims) {
        return Tensor.randn(new Rng(seed), Shape.of(dims), t, Device.CPU);
    }

    /** A CPU tensor from explicit values. */
    static Tensor cpu(double[] v, DType t, int... dims) {
        return Tensor.fromDoubles(v, dims.length == 0 ? Shape.scalar() : Shape.of(dims), t, Device.CPU);
    }

    /** The same values on the GPU under test. */
    static Tensor gpu(Tensor cpu) {
        return Tensor.fromDoubles(cpu.toDoubleArray(), cpu.shape(), cpu.dtype(), device());
    }

    /**
     * |actual - expected| <= atol[i] + rtol * |expected| everywhere (NaN matches NaN, infinities
     * match exactly); the failure names the worst element and the largest difference.
     */
    static void assertClose(double[] expected, double[] actual, double[] atol, double rtol, String what) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int worst = -1;
        double worstRatio = 1.0;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i]) && Double.isNaN(actual[i])) {
                continue;
            }
            if (Double.isInfinite(expected[i]) && expected[i] == actual[i]) {
                continue;
            }
            double diff = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(diff)) {
                diff = Double.POSITIVE_INFINITY;
            }
            if (diff == 0) {
                continue;
            }
            maxDiff = Math.max(maxDiff, diff);
            double ratio = diff / (atol[i] + rtol * Math.abs(expected[i]));
            if (!(ratio <= worstRatio)) {
                worstRatio = ratio;
                worst = i;
            }
        }
        if (worst >= 0) {
            throw new AssertionError(String.format("%s: worst element %d: actual %.12g, expected %.12g "
                            + "(max |diff| %.3g, atol there %.3g, rtol %.3g)", what, worst, actual[worst], expected[worst],
                    maxDiff, atol[worst], rtol));
        }
    }

    static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        double[] a = new double[expected.length];
        java.util.Arrays.fill(a, atol);
        assertClose(expected, actual, a, rtol, what);
    }

    /** Exact equality (data movement), NaN included. */
    static void assertSame(double[] expected, double[] actual, String what) {
        assertClose(expected, actual, 0.0, 0.0, what);
    }

    /**
     * Launch counts per kernel during {@code body}.
     */
    static Map<String, Long> launchesDuring(Runnable body) {
        Map<String, Long> before = backend().launchLog().launchCounts();
        body.run();
        Map<String, Long> after = backend().launchLog().launchCounts();
        Map<String, Long> delta = new TreeMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d > 0) {
                delta.put(k, d);
            }
        });
        return delta;
    }

    /** Asserts that {@code kernel} is among the launches. */
    static void assertLaunched(Map<String, Long> launches, String kernel) {
        assertTrue(launches.getOrDefault(kernel, 0L) > 0, "expected a launch of " + kernel + ", launched " + launches);
    }

    /**
     * Remembers the kernels each test method launched, so that an {@code @AfterAll} can check
     * that every kernel a method claims in {@link CoversKernels} really ran in it (the f32 and
     * f64 kernels run in different invocations of a parameterized test).
     */
    static final class Claims {
        private final Map<Method, Set<String>> launched = new TreeMap<>((a, b) -> a.getName().compareTo(b.getName()));
        private Map<String, Long> before;
        private long bytesBefore;

        void before() {
            before = backend().launchLog().launchCounts();
            bytesBefore = backend().bytesInUse();
        }

        /** Call after the test's scope closed: also checks that no device memory leaked. */
        void after(Method m) {
            org.junit.jupiter.api.Assertions.assertEquals(bytesBefore, backend().bytesInUse(),
                    m.getName() + " left device memory in use after its scope closed");
            Set<String> s = launched.computeIfAbsent(m, k -> new TreeSet<>());
            backend().launchLog().launchCounts().forEach((k, v) -> {
                if (v > before.getOrDefault(k, 0L)) {
                    s.add(k);
                }
            });
        }

        /** Every kernel claimed by a method that ran was launched by it. */
        void assertClaimsRan() {
            launched.forEach((m, ran) -> {
                CoversKernels c = m.getAnnotation(CoversKernels.class);
                if (c != null) {
                    Set<String> missing = new TreeSet<>(Set.of(c.value()));
                    missing.removeAll(ran);
                    assertTrue(missing.isEmpty(), m.getName() + " claims " + missing + " in @CoversKernels but never launched them; it launched " + ran);
                }
            });
        }
    }
}
