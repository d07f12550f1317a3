package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnorm.backend.Backends;
import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.ConvKernels;
import io.jnorm.backend.cpu.CpuBackend;
import io.jnorm.gpu.GpuAvailability;
import io.jnorm.gpu.emu.EmulatorOptions;
import io.jnorm.gpu.emu.PtxEmulator;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The backend itself: devices, memory lifetime and caching, transfers, launch checks, fallbacks. */
class CudaBackendTest {

    @Test
    void theEmulatedGpuIsACudaBackendOverTheEmulatorWithTheSanitizerOn() {
        assumeTrue(CudaTestSupport.device().kind() == Device.Kind.EMULATED_GPU);
        assumeTrue(System.getProperty(CudaBackend.SANITIZER_PROPERTY) == null, "the default was overridden");
        CudaBackend b = CudaBackend.of(Device.emulatedGpu());
        assertSame(b, Backends.of(Device.emulatedGpu()), "one backend per device");
        assertTrue(b.driver() instanceof PtxEmulator emu && emu.options().sanitizer(), "sanitizer on by default");
    }

    @Test
    void aCudaDeviceOnAMachineWithoutOneSaysWhy() {
        GpuAvailability cuda = GpuAvailability.cuda();
        assumeFalse(cuda.available(), "this machine has a GPU");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Tensor.zeros(Shape.of(2), DType.F32, Device.cuda(0)));
        assertTrue(e.getMessage().contains("cuda:0") && e.getMessage().contains(cuda.reason()), e.getMessage());
    }

    @Test
    void aScopeReturnsDeviceMemoryToTheBaselineAndTheCacheKeepsTheBlocks() {
        CudaBackend b = backend();
        long baseline = b.bytesInUse();
        try (Scope s = Scope.open()) {
            Tensor x = gpu(cpuRandn(1, DType.F32, 37, 41)).requiresGrad(true);
            Tensor y = Ops.sum(Ops.mul(Ops.relu(x), Ops.exp(x)));
            y.backward();
            assertTrue(b.bytesInUse() > baseline, "tensors in the scope hold memory");
            x.zeroGrad();
        }
        assertEquals(baseline, b.bytesInUse(), "bytes in use after the scope");
        assertTrue(b.bytesCached() > 0, "freed blocks stay cached");

        // The same shapes again reuse cached blocks: no new device allocation.
        long driverBefore = b.driver().bytesInUse();
        try (Scope s = Scope.open()) {
            Tensor x = gpu(cpuRandn(1, DType.F32, 37, 41));
            Ops.sum(Ops.mul(Ops.relu(x), Ops.exp(x)));
        }
        assertEquals(driverBefore, b.driver().bytesInUse(), "second pass served from the cache");
        b.emptyCache();
        assertEquals(0, b.bytesCached());
        assertEquals(b.bytesInUse(), b.driver().bytesInUse(), "after emptyCache the driver holds only live blocks");
    }

    @Test
    void sizeClassesRoundSmallAndLargeRequests() {
        CachingAllocator rounded = new CachingAllocator(backend().driver(), false);
        assertEquals(512, rounded.sizeClass(1));
        assertEquals(1024, rounded.sizeClass(513));
        assertEquals(1L << 20, rounded.sizeClass(1L << 20));
        assertEquals((1L << 20) + (1L << 18), rounded.sizeClass((1L << 20) + 1), "quarter-octave classes above 1 MiB");
        CachingAllocator exact = new CachingAllocator(backend().driver(), true);
        assertEquals(20, exact.sizeClass(20), "exact classes keep the sanitizer's bounds tight");
    }

    @Test
    void transfersRoundToTheDtypeAndCopiesConvertOnTheDevice() {
        double[] v = {1.0 / 3, -2.5e-8, 7, Double.NaN, Double.NEGATIVE_INFINITY};
        Tensor f = Tensor.fromDoubles(v, Shape.of(5), DType.F32, CudaTestSupport.device());
        Tensor d = Tensor.fromDoubles(v, Shape.of(5), DType.F64, CudaTestSupport.device());
        double[] rounded = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            rounded[i] = (float) v[i];
        }
        assertArrayEquals(rounded, f.toDoubleArray());
        assertArrayEquals(v, d.toDoubleArray());
        Tensor back = Tensor.zeros(Shape.of(5), DType.F32, d.device());
        d.backend().copy(d, back);
        assertArrayEquals(rounded, back.toDoubleArray());
        Tensor host = Ops.toDevice(d, Device.CPU);
        assertEquals(Device.CPU, host.device());
        assertArrayEquals(v, host.toDoubleArray());
        for (Tensor t : new Tensor[] {f, d, back, host}) {
            t.close();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(DType.class)
    @io.jnorm.gpu.CoversKernels(module = "elementwise", value = {"ew_fill_f32", "ew_fill_f64"})
    void constantTensorsAreFilledOnTheDeviceInsteadOfCopied(DType t) {
        String fill = "ew_fill_" + t.suffix();
        for (double v : new double[] {2.5, -0.0, Double.NaN, 1.0 / 3}) {
            for (int n : new int[] {1, 7, 4099}) {
                Tensor[] x = new Tensor[1];
                Map<String, Long> l = CudaTestSupport.launchesDuring(
                        () -> x[0] = Tensor.full(v, Shape.of(n), t, CudaTestSupport.device()));
                assertEquals(Map.of(fill, 1L), l, "one fill launch for a constant");
                double[] got = x[0].toDoubleArray();
                for (double g : got) {
                    assertEquals(Double.doubleToRawLongBits(t.round(v)), Double.doubleToRawLongBits(g), "filled value");
                }
                x[0].close();
            }
        }
        Map<String, Long> copy = CudaTestSupport.launchesDuring(
                () -> Tensor.fromDoubles(new double[] {1, 2}, Shape.of(2), t, CudaTestSupport.device()).close());
        assertEquals(Map.of(), copy, "other values are copied, not launched");
    }

    @Test
    void theSanitizerCatchesAnOverrunPastATensorsLastElement() {
        assumeTrue(backend().driver() instanceof PtxEmulator emu && emu.options().sanitizer(), "needs the sanitizer");
        try (Scope s = Scope.open()) {
            Tensor x = gpu(cpuRandn(9, DType.F32, 5));
            Tensor y = Tensor.zeros(x.shape(), DType.F32, x.device());
            ElementwisePtx ptx = new ElementwisePtx(new PtxModules(backend().driver(), new LaunchLog()));
            // n = 6 on 5-element tensors: the scalar tail reads one float past the end, which the
            // exact size classes of a sanitized emulator leave outside the allocation.
            io.jnorm.gpu.GpuException e = assertThrows(io.jnorm.gpu.GpuException.class, () -> ptx.unary(DType.F32,
                    io.jnorm.gpu.LaunchConfig.of1d(1, 32), 0, 6, CudaBuffer.ptr(x), CudaBuffer.ptr(y)));
            assertEquals("EMU_OUT_OF_BOUNDS", e.status(), e.getMessage());
            assertTrue(e.getMessage().contains("ew_unary_f32"), e.getMessage());
        }
    }

    @Test
    void aLauncherThatDisagreesWithThePtxFailsAtLoadNamingTheKernel() {
        PtxModules m = new PtxModules(backend().driver(), new LaunchLog());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.kernel("elementwise", "ew_unary_f32",
                KernelHandle.Param.I32, KernelHandle.Param.I32, KernelHandle.Param.PTR, KernelHandle.Param.PTR));
        assertTrue(e.getMessage().contains("ew_unary_f32") && e.getMessage().contains("parameter 1"), e.getMessage());
        IllegalStateException count = assertThrows(IllegalStateException.class,
                () -> m.kernel("elementwise", "ew_unary_f32", KernelHandle.Param.I32));
        assertTrue(count.getMessage().contains("takes 4 parameters"), count.getMessage());
    }

    @Test
    void familiesWithoutKernelsRunOnTheCpuReferenceAndSaySo() {
        // Every family with ops now has kernels, so the mechanism is checked on a fallback built
        // over the conv family by hand (the norm families take the same path when they grow methods).
        ConvKernels fallback = HostFallback.of(ConvKernels.class, "conv", new CpuBackend().conv(), backend());
        try (Scope s = Scope.open()) {
            Tensor x = cpuRandn(2, DType.F64, 1, 2, 5, 5);
            Tensor w = cpuRandn(3, DType.F64, 3, 2, 3, 3);
            Tensor bias = cpuRandn(4, DType.F64, 3);
            Conv2dSpec spec = new Conv2dSpec(1, 1, 1, 1, 1, 1, 1);
            Tensor ref = Tensor.zeros(Shape.of(1, 3, 5, 5), DType.F64, Device.CPU);
            ref.backend().conv().conv2dForward(x, w, bias, spec, ref);
            Map<String, Long> before = backend().launchLog().fallbackCounts();
            Tensor gx = gpu(x);
            Tensor gw = gpu(w);
            double[] wBefore = gw.toDoubleArray();
            Tensor y = Tensor.zeros(Shape.of(1, 3, 5, 5), DType.F64, gx.device());
            fallback.conv2dForward(gx, gw, gpu(bias), spec, y);
            assertArrayEquals(ref.toDoubleArray(), y.toDoubleArray(), "the reference's result, copied back");
            assertArrayEquals(wBefore, gw.toDoubleArray(), "inputs are untouched");
            long calls = backend().launchLog().fallbackCounts().getOrDefault("conv.conv2dForward", 0L)
                    - before.getOrDefault("conv.conv2dForward", 0L);
            assertEquals(1, calls, "the fallback is counted: " + backend().launchLog().fallbackCounts());
            assertTrue(fallback.toString().contains("HostFallback"), fallback.toString());
        }
    }

    @Test
    void aBackendOverItsOwnEmulatorWorksWithoutTheSanitizerAndClosesIt() {
        PtxEmulator emu = new PtxEmulator(EmulatorOptions.fast());
        CudaBackend b = new CudaBackend(Device.emulatedGpu(), emu);
        io.jnorm.tensor.Buffer buf = b.fromHost(DType.F32, new double[] {1, 2, 3});
        assertArrayEquals(new double[] {1, 2, 3}, b.toHost(buf));
        b.close();
        assertThrows(IllegalStateException.class, () -> emu.alloc(4), "the backend closed its driver");
    }
}
