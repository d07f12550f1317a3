package io.jnorm.backend.cuda;

import io.jnorm.backend.Pool2dSpec;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Typed launchers of pool.ptx. x and dx are [planes = N*C, h, w], y and dy [planes, oh, ow];
 * every output is overwritten (the backward kernels gather, so dx needs no zeroing). One launch each.
 */
public final class CudaPoolLaunchers {

    private final KernelModule module;

    public CudaPoolLaunchers(GpuDriver driver) {
        this.module = new KernelModule(driver, "pool");
    }

    public void maxForward(DType t, DevicePointer x, DevicePointer y, int planes, int h, int w, Pool2dSpec s) {
        module.launch("max_pool2d_fwd", t, KernelModule.gridStride((long) planes * s.outH(h) * s.outW(w)),
                KernelArgs.of().ptr(x).ptr(y).bytes(pack(planes, h, w, s)));
    }

    public void maxBackward(DType t, DevicePointer x, DevicePointer dy, DevicePointer dx, int planes, int h, int w, Pool2dSpec s) {
        module.launch("max_pool2d_bwd", t, KernelModule.gridStride((long) planes * h * w),
                KernelArgs.of().ptr(x).ptr(dy).ptr(dx).bytes(pack(planes, h, w, s)));
    }

    public void avgForward(DType t, DevicePointer x, DevicePointer y, int planes, int h, int w, Pool2dSpec s) {
        module.launch("avg_pool2d_fwd", t, KernelModule.gridStride((long) planes * s.outH(h) * s.outW(w)),
                KernelArgs.of().ptr(x).ptr(y).bytes(pack(planes, h, w, s)));
    }

    public void avgBackward(DType t, DevicePointer dy, DevicePointer dx, int planes, int h, int w, Pool2dSpec s) {
        module.launch("avg_pool2d_bwd", t, KernelModule.gridStride((long) planes * h * w),
                KernelArgs.of().ptr(dy).ptr(dx).bytes(pack(planes, h, w, s)));
    }

    /** The kernels' {@code PoolParams} struct (11 ints), little-endian. */
    static byte[] pack(int planes, int h, int w, Pool2dSpec s) {
        ByteBuffer b = ByteBuffer.allocate(44).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(planes).putInt(h).putInt(w).putInt(s.outH(h)).putInt(s.outW(w));
        b.putInt(s.kernelH()).putInt(s.kernelW()).putInt(s.strideH()).putInt(s.strideW()).putInt(s.padH()).putInt(s.padW());
        return b.array();
    }
}
