package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.WeightStandardizationKernels;
import io.jnorm.backend.cuda.CudaWeightStandardizationLaunchers.Variant;
import io.jnorm.tensor.Tensor;

/**
 * Weight standardization on the GPU (ws_conv.cu). The stand-alone kernels are one block per
 * output channel; the convolution entry points are fused: the forward is ws_stats plus a conv
 * whose weight loader standardizes while it stages (2 launches, Ŵ never in device memory), the
 * input gradient likewise, and the weight gradient sums the conv's K-split partials and applies
 * WS's closed form in one kernel.
 */
final class CudaWeightStandardization implements WeightStandardizationKernels {
    private final CudaWeightStandardizationLaunchers ptx;

    CudaWeightStandardization(CudaWeightStandardizationLaunchers ptx) {
        this.ptx = ptx;
    }

    @Override
    public void forward(Tensor w, double epsIn, double epsOut, boolean unbiased, Tensor wHat) {
        ptx.standardize(w.dtype(), ptr(w), ptr(wHat), w.dim(0), fanIn(w), new Variant(epsIn, epsOut, unbiased));
    }

    @Override
    public void backward(Tensor w, Tensor gradWHat, double epsIn, double epsOut, boolean unbiased, Tensor gradW) {
        ptx.backward(w.dtype(), ptr(w), ptr(gradWHat), ptr(gradW), w.dim(0), fanIn(w), new Variant(epsIn, epsOut, unbiased));
    }

    @Override
    public void conv2dForward(Tensor x, Tensor w, Tensor bias, Conv2dSpec spec, double epsIn, double epsOut,
                              boolean unbiased, Tensor y) {
        if (y.numel() > 0) {
            ptx.convForward(x.dtype(), ptr(x), ptr(w), bias == null ? null : ptr(bias), ptr(y),
                    CudaConv.geometry(x, w, spec), new Variant(epsIn, epsOut, unbiased));
        }
    }

    @Override
    public void conv2dBackwardInput(Tensor dy, Tensor w, Conv2dSpec spec, double epsIn, double epsOut, boolean unbiased,
                                    Tensor dx) {
        if (dx.numel() > 0) {
            ptx.convBackwardInput(dy.dtype(), ptr(dy), ptr(w), ptr(dx), CudaConv.geometry(dx, w, spec),
                    new Variant(epsIn, epsOut, unbiased));
        }
    }

    @Override
    public void conv2dBackwardWeight(Tensor dy, Tensor x, Tensor w, Conv2dSpec spec, double epsIn, double epsOut,
                                     boolean unbiased, Tensor dw) {
        if (dw.numel() > 0) {
            ptx.convBackwardWeight(dy.dtype(), ptr(dy), ptr(x), ptr(w), ptr(dw), CudaConv.geometry(x, w, spec),
                    new Variant(epsIn, epsOut, unbiased));
        }
    }

    private static int fanIn(Tensor w) {
        return (int) (w.numel() / w.dim(0));
    }
}
