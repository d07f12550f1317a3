package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.LossKernels;
import io.jnorm.tensor.Tensor;

/** log-softmax and cross-entropy on the GPU (softmax.cu), the tensor viewed as [outer, K, inner] around the axis. */
final class CudaLoss implements LossKernels {
    private final CudaLossLaunchers ptx;

    CudaLoss(CudaLossLaunchers ptx) {
        this.ptx = ptx;
    }

    @Override
    public void logSoftmax(Tensor x, int axis, Tensor out) {
        if (x.numel() > 0) {
            ptx.logSoftmax(x.dtype(), ptr(x), ptr(out), outer(x, axis), x.dim(axis), inner(x, axis));
        }
    }

    @Override
    public void logSoftmaxBackward(Tensor y, Tensor dy, int axis, Tensor dx) {
        if (y.numel() > 0) {
            ptx.logSoftmaxBackward(y.dtype(), ptr(y), ptr(dy), ptr(dx), outer(y, axis), y.dim(axis), inner(y, axis));
        }
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor targets, Tensor lse, Tensor loss) {
        ptx.crossEntropy(logits.dtype(), ptr(logits), ptr(targets), ptr(lse), ptr(loss), logits.dim(0), logits.dim(1));
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, Tensor lse, Tensor dLoss, Tensor dLogits) {
        ptx.crossEntropyBackward(logits.dtype(), ptr(logits), ptr(targets), ptr(lse), ptr(dLoss), ptr(dLogits),
                logits.dim(0), logits.dim(1));
    }

    private static int outer(Tensor t, int axis) {
        return (int) t.shape().numel(0, axis);
    }

    private static int inner(Tensor t, int axis) {
        return (int) t.shape().numel(axis + 1, t.rank());
    }
}
