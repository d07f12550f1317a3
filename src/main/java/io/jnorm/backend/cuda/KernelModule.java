package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.PtxResources;
import io.jnorm.tensor.DType;
import java.util.HashMap;
import java.util.Map;

/**
 * One PTX module of the heavy kernel families loaded on one driver. Kernels are named
 * {@code <base>_<dtype>} (e.g. {@code conv2d_fwd_f32}); each is looked up once, and every launch
 * goes through {@link GpuDriver#launch}, which checks the arguments against the {@code .entry}.
 */
final class KernelModule {

    /** Threads per block of the grid-stride and one-row-per-block kernels. */
    static final int BLOCK = 256;
    /** Grid cap of grid-stride kernels: enough blocks to fill any current GPU several times. */
    static final int MAX_GRID = 4096;

    private final GpuDriver driver;
    private final GpuModule module;
    private final Map<String, GpuKernel> kernels = new HashMap<>();

    KernelModule(GpuDriver driver, String name) {
        this.driver = driver;
        this.module = driver.loadModule(name + ".ptx", PtxResources.load(name));
    }

    GpuDriver driver() {
        return driver;
    }

    GpuKernel kernel(String base, DType dtype) {
        return kernels.computeIfAbsent(base + "_" + dtype.suffix(), n -> driver.kernel(module, n));
    }

    void launch(String base, DType dtype, LaunchConfig config, KernelArgs args) {
        driver.launch(kernel(base, dtype), config, args);
    }

    /** A floating-point scalar argument in the kernel's dtype. */
    static KernelArgs scalar(KernelArgs args, DType dtype, double v) {
        return dtype == DType.F32 ? args.f32((float) v) : args.f64(v);
    }

    /** A pointer argument that may be absent (the kernel tests it against null). */
    static KernelArgs optional(KernelArgs args, DevicePointer p) {
        return p == null ? args.address(0) : args.ptr(p);
    }

    /** A 1-D grid-stride launch over {@code total} work items. */
    static LaunchConfig gridStride(long total) {
        long blocks = Math.max(1, Math.min(MAX_GRID, (total + BLOCK - 1) / BLOCK));
        return LaunchConfig.of1d((int) blocks, BLOCK);
    }

    static int ceilDiv(long a, int b) {
        return (int) ((a + b - 1) / b);
    }
}
