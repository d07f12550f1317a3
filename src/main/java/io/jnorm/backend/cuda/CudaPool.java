package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.Pool2dSpec;
import io.jnorm.backend.PoolKernels;
import io.jnorm.tensor.Tensor;

/** Pooling on the GPU (pool.cu): one launch per call, backward kernels gather (no atomics, no zeroing). */
final class CudaPool implements PoolKernels {
    private final CudaPoolLaunchers ptx;

    CudaPool(CudaPoolLaunchers ptx) {
        this.ptx = ptx;
    }

    @Override
    public void maxPool2dForward(Tensor x, Pool2dSpec spec, Tensor y) {
        if (y.numel() > 0) {
            ptx.maxForward(x.dtype(), ptr(x), ptr(y), planes(x), x.dim(2), x.dim(3), spec);
        }
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, Pool2dSpec spec, Tensor dx) {
        if (dx.numel() > 0) {
            ptx.maxBackward(x.dtype(), ptr(x), ptr(dy), ptr(dx), planes(x), x.dim(2), x.dim(3), spec);
        }
    }

    @Override
    public void avgPool2dForward(Tensor x, Pool2dSpec spec, Tensor y) {
        if (y.numel() > 0) {
            ptx.avgForward(x.dtype(), ptr(x), ptr(y), planes(x), x.dim(2), x.dim(3), spec);
        }
    }

    @Override
    public void avgPool2dBackward(Tensor dy, Pool2dSpec spec, Tensor dx) {
        if (dx.numel() > 0) {
            ptx.avgBackward(dy.dtype(), ptr(dy), ptr(dx), planes(dx), dx.dim(2), dx.dim(3), spec);
        }
    }

    private static int planes(Tensor t) {
        return t.dim(0) * t.dim(1);
    }
}
