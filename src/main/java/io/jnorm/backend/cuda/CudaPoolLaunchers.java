package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.POOL;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.backend.Pool2dSpec;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Typed launchers of pool.ptx. x and dx are [planes = N*C, h, w], y and dy [planes, oh, ow];
 * every output is overwritten (the backward kernels gather, so dx needs no zeroing). One launch each.
 */
final class CudaPoolLaunchers {

    static final String MODULE = "pool";
    /** Bytes of the kernels' by-value PoolParams (11 ints). */
    static final int PARAMS_BYTES = 44;

    private final PtxModules modules;
    private final KernelHandle[] maxForward;
    private final KernelHandle[] maxBackward;
    private final KernelHandle[] avgForward;
    private final KernelHandle[] avgBackward;

    CudaPoolLaunchers(PtxModules m) {
        modules = m;
        maxForward = m.perDType(MODULE, "max_pool2d_fwd", PTR, PTR, POOL);
        maxBackward = m.perDType(MODULE, "max_pool2d_bwd", PTR, PTR, PTR, POOL);
        avgForward = m.perDType(MODULE, "avg_pool2d_fwd", PTR, PTR, POOL);
        avgBackward = m.perDType(MODULE, "avg_pool2d_bwd", PTR, PTR, POOL);
    }

    void maxForward(DType t, DevicePointer x, DevicePointer y, int planes, int h, int w, Pool2dSpec s) {
        maxForward[t.ordinal()].launch(modules.grid1d((long) planes * s.outH(h) * s.outW(w)),
                KernelArgs.of().ptr(x).ptr(y).bytes(pack(planes, h, w, s)));
    }

    void maxBackward(DType t, DevicePointer x, DevicePointer dy, DevicePointer dx, int planes, int h, int w, Pool2dSpec s) {
        maxBackward[t.ordinal()].launch(modules.grid1d((long) planes * h * w),
                KernelArgs.of().ptr(x).ptr(dy).ptr(dx).bytes(pack(planes, h, w, s)));
    }

    void avgForward(DType t, DevicePointer x, DevicePointer y, int planes, int h, int w, Pool2dSpec s) {
        avgForward[t.ordinal()].launch(modules.grid1d((long) planes * s.outH(h) * s.outW(w)),
                KernelArgs.of().ptr(x).ptr(y).bytes(pack(planes, h, w, s)));
    }

    void avgBackward(DType t, DevicePointer dy, DevicePointer dx, int planes, int h, int w, Pool2dSpec s) {
        avgBackward[t.ordinal()].launch(modules.grid1d((long) planes * h * w),
                KernelArgs.of().ptr(dy).ptr(dx).bytes(pack(planes, h, w, s)));
    }

    /** The kernels' {@code PoolParams} struct, little-endian in field order. */
    static byte[] pack(int planes, int h, int w, Pool2dSpec s) {
        ByteBuffer b = ByteBuffer.allocate(PARAMS_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(planes).putInt(h).putInt(w).putInt(s.outH(h)).putInt(s.outW(w));
        b.putInt(s.kernelH()).putInt(s.kernelW()).putInt(s.strideH()).putInt(s.strideW()).putInt(s.padH()).putInt(s.padW());
        return b.array();
    }
}
