package io.jnorm.backend.cuda;

import io.jnorm.backend.cuda.KernelHandle.Param;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.gpu.PtxResources;
import io.jnorm.tensor.DType;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The PTX modules of one backend, each loaded once (from {@link PtxResources}) on first use,
 * plus the launch geometry helpers every launcher shares.
 */
final class PtxModules {
    /** Threads per block of 1-D kernels: 8 warps, enough to hide latency, small enough to fill SMs. */
    static final int BLOCK = 256;

    private final GpuDriver driver;
    private final LaunchLog log;
    private final Map<String, GpuModule> modules = new ConcurrentHashMap<>();
    private final int maxBlocks;

    PtxModules(GpuDriver driver, LaunchLog log) {
        this.driver = driver;
        this.log = log;
        // Grid-stride kernels need only enough blocks to fill the machine: 8 resident blocks of
        // 256 threads per SM is full occupancy on sm_75..sm_90.
        this.maxBlocks = Math.max(1, driver.properties().multiprocessorCount()) * 8;
    }

    GpuModule module(String name) {
        return modules.computeIfAbsent(name, n -> driver.loadModule(n + ".ptx", PtxResources.load(n)));
    }

    /** Loads {@code <base>_<dtype>} from a module, checked against {@code params}. */
    KernelHandle kernel(String module, String entry, Param... params) {
        return KernelHandle.load(driver, module(module), entry, log, params);
    }

    /** One handle per dtype, indexed by {@link DType#ordinal()}; F32/F64 scalars follow the dtype. */
    KernelHandle[] perDType(String module, String base, Param... params) {
        KernelHandle[] h = new KernelHandle[DType.values().length];
        for (DType t : DType.values()) {
            Param[] p = params.clone();
            for (int i = 0; i < p.length; i++) {
                if (p[i] == Param.F32 || p[i] == Param.F64) {
                    p[i] = t == DType.F32 ? Param.F32 : Param.F64;
                }
            }
            h[t.ordinal()] = kernel(module, base + "_" + t.suffix(), p);
        }
        return h;
    }

    /** A 1-D grid-stride launch over {@code work} items: one item per thread, capped grid. */
    LaunchConfig grid1d(long work) {
        long blocks = Math.max(1, (work + BLOCK - 1) / BLOCK);
        return LaunchConfig.of1d((int) Math.min(blocks, maxBlocks), BLOCK);
    }

    /** A cap for grids whose blocks each own a row / output (they loop when there are more). */
    int maxRowBlocks() {
        return maxBlocks * 8;
    }

    GpuDriver driver() {
        return driver;
    }
}
