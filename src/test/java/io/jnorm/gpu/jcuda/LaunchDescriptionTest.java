package io.jnorm.gpu.jcuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuKernel;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelParam;
import io.jnorm.gpu.KernelParamLayout;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.PtxEntrySignatures;
import io.jnorm.gpu.PtxResources;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The launch-side pieces of JCudaDriver that need no GPU: the kernelParams array and messages. */
class LaunchDescriptionTest {

    private static GpuKernel kernel(String entry) {
        List<KernelParam> params = PtxEntrySignatures.of(PtxResources.load("emulator_selftest"), entry);
        GpuModule module = new GpuModule() {
            @Override
            public String name() {
                return "emulator_selftest.ptx";
            }

            @Override
            public List<String> entryNames() {
                return List.of(entry);
            }
        };
        return new GpuKernel() {
            @Override
            public String name() {
                return entry;
            }

            @Override
            public GpuModule module() {
                return module;
            }

            @Override
            public List<KernelParam> params() {
                return params;
            }
        };
    }

    @Test
    void oneHostPointerPerParameter() {
        GpuKernel matmul = kernel("matmul_tiled_f32");
        DevicePointer p = new DevicePointer(0x10000, 1024);
        KernelParamLayout layout = KernelParamLayout.of(matmul, KernelArgs.of().ptr(p).ptr(p).ptr(p).i32(1).i32(2).i32(3));
        assertEquals(6, JCudaDriver.toPointers(layout).length);
    }

    @Test
    void launchesAreDescribedWithKernelModuleAndGeometry() {
        LaunchConfig c = new LaunchConfig(3, 2, 1, 16, 16, 1, 0).withDynamicShared(1024);
        assertEquals("kernel matmul_tiled_f64 of emulator_selftest.ptx, grid (3, 2, 1), block (16, 16, 1), 1024 B dynamic shared",
                JCudaDriver.describeLaunch(kernel("matmul_tiled_f64"), c));
    }
}
