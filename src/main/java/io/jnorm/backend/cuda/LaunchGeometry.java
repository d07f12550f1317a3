package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;

/** Argument and grid helpers shared by the launchers of the heavy families (gemm, conv, pool, loss, WS). */
final class LaunchGeometry {

    /** Threads per block of the tile kernels and of the one-row-per-block kernels. */
    static final int BLOCK = PtxModules.BLOCK;

    private LaunchGeometry() {
    }

    /** A pointer argument that may be absent (the kernel tests it against null). */
    static KernelArgs optional(KernelArgs args, DevicePointer p) {
        return p == null ? args.address(0) : args.ptr(p);
    }

    /** ceil(a / b), at least 1: a launch dimension covering {@code a} items in tiles of {@code b}. */
    static int tiles(long a, int b) {
        return (int) Math.max(1, (a + b - 1) / b);
    }
}
