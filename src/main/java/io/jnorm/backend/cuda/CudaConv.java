package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.ConvKernels;
import io.jnorm.tensor.Tensor;

/** Convolutions on the GPU: the implicit-GEMM kernels of conv2d.cu (one launch each, two for a K-split weight gradient). */
final class CudaConv implements ConvKernels {
    private final CudaConvLaunchers ptx;

    CudaConv(CudaConvLaunchers ptx) {
        this.ptx = ptx;
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, Tensor y) {
        if (y.numel() == 0) {
            return;
        }
        ptx.forward(x.dtype(), ptr(x), ptr(w), bias == null ? null : ptr(bias), ptr(y), geometry(x, w, spec));
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Conv2dSpec spec, Tensor dx) {
        if (dx.numel() == 0) {
            return;
        }
        ptx.backwardInput(dy.dtype(), ptr(dy), ptr(w), ptr(dx), geometry(dx, w, spec));
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Conv2dSpec spec, Tensor dw) {
        if (dw.numel() == 0) {
            return;
        }
        ptx.backwardWeight(dy.dtype(), ptr(dy), ptr(x), ptr(dw), geometry(x, dw, spec));
    }

    static CudaConvGeometry geometry(Tensor x, Tensor w, Conv2dSpec spec) {
        return CudaConvGeometry.of(x.shape().dims(), w.shape().dims(), spec);
    }
}
