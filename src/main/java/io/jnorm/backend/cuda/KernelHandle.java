package io.jnorm.backend.cuda;

import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.LaunchConfig;
import java.util.List;

/**
 * One PTX entry, looked up once and checked against the parameter list its typed launcher
 * will pass. A launcher class (ElementwisePtx, ReducePtx, ShapePtx) holds one handle per entry
 * and dtype and exposes a Java method whose parameters mirror the {@code .entry}; if the .cu
 * and the launcher ever disagree, loading the backend fails naming the kernel and parameter,
 * long before a launch could pass garbage.
 */
final class KernelHandle {

    /** The C parameter types jnorm's kernels use, as PTX declares them. */
    enum Param {
        /** int or unsigned: .u32 / .s32 / .b32. */
        I32(4, false),
        /** long long: .u64 / .s64 / .b64. */
        I64(8, false),
        /** A device pointer: .u64. */
        PTR(8, false),
        F32(4, true),
        F64(8, true),
        /** A by-value StridedMap&lt;1&gt;: .b8[68]. */
        MAP1(StridedMaps.bytes(1), false),
        /** A by-value StridedMap&lt;2&gt;: .b8[100]. */
        MAP2(StridedMaps.bytes(2), false),
        /** A by-value ConvParams (conv_igemm.cuh): .b8[72]. */
        CONV(CudaConvGeometry.PARAMS_BYTES, false),
        /** A by-value GemmParams (gemm.cu): .b8[64]. */
        GEMM(CudaLinalgLaunchers.PARAMS_BYTES, false),
        /** A by-value PoolParams (pool.cu): .b8[44]. */
        POOL(CudaPoolLaunchers.PARAMS_BYTES, false);

        final int bytes;
        final boolean floating;

        Param(int bytes, boolean floating) {
            this.bytes = bytes;
            this.floating = floating;
        }
    }

    private final GpuDriver driver;
    private final GpuKernel kernel;
    private final String name;
    private final LaunchLog log;

    private KernelHandle(GpuDriver driver, GpuKernel kernel, LaunchLog log) {
        this.driver = driver;
        this.kernel = kernel;
        this.name = kernel.name();
        this.log = log;
    }

    /**
     * Looks up {@code entry} in {@code module} and checks its parameters.
     *
     * @throws IllegalStateException naming the kernel and the first parameter that differs
     */
    static KernelHandle load(GpuDriver driver, GpuModule module, String entry, LaunchLog log, Param... expected) {
        GpuKernel k = driver.kernel(module, entry);
        List<KernelParam> params = k.params();
        if (params.size() != expected.length) {
            throw new IllegalStateException(String.format(
                    "kernel %s in %s takes %d parameters but its launcher passes %d; rebuild the PTX "
                            + "(tools/build-ptx) or fix the launcher", entry, module.name(), params.size(), expected.length));
        }
        for (int i = 0; i < expected.length; i++) {
            KernelParam p = params.get(i);
            Param e = expected[i];
            boolean floating = p.ptxType().startsWith("f");
            if (p.sizeBytes() != e.bytes || floating != e.floating) {
                throw new IllegalStateException(String.format(
                        "kernel %s in %s: parameter %d (%s .%s, %d bytes) does not match the launcher's %s (%d bytes)",
                        entry, module.name(), i, p.name(), p.ptxType(), p.sizeBytes(), e, e.bytes));
            }
        }
        return new KernelHandle(driver, k, log);
    }

    String name() {
        return name;
    }

    /** Launches asynchronously on the driver's stream and counts the launch. */
    void launch(LaunchConfig config, KernelArgs args) {
        driver.launch(kernel, config, args);
        log.launched(name);
    }
}
