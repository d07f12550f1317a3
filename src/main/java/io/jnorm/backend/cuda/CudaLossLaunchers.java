package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelModule.ceilDiv;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of softmax.ptx. A tensor is viewed as [outer, k, inner] around the softmax
 * axis: rows (inner == 1) go to the warp-per-row kernels, other layouts to the
 * thread-per-column kernels, whose lanes then read consecutive addresses.
 */
public final class CudaLossLaunchers {

    private static final int ROWS_PER_BLOCK = KernelModule.BLOCK / 32;

    private final KernelModule module;

    public CudaLossLaunchers(GpuDriver driver) {
        this.module = new KernelModule(driver, "softmax");
    }

    /** y = x - logsumexp(x) along k. One launch. */
    public void logSoftmax(DType t, DevicePointer x, DevicePointer y, int outer, int k, int inner) {
        if (inner == 1) {
            module.launch("log_softmax_rows", t, rowGrid(outer), KernelArgs.of().ptr(x).ptr(y).i32(outer).i32(k));
        } else {
            module.launch("log_softmax_cols", t, KernelModule.gridStride((long) outer * inner),
                    KernelArgs.of().ptr(x).ptr(y).i32(outer).i32(k).i32(inner));
        }
    }

    /** dx = dy - exp(y) * sum(dy) along k. One launch. */
    public void logSoftmaxBackward(DType t, DevicePointer y, DevicePointer dy, DevicePointer dx, int outer, int k, int inner) {
        if (inner == 1) {
            module.launch("log_softmax_bwd_rows", t, rowGrid(outer), KernelArgs.of().ptr(y).ptr(dy).ptr(dx).i32(outer).i32(k));
        } else {
            module.launch("log_softmax_bwd_cols", t, KernelModule.gridStride((long) outer * inner),
                    KernelArgs.of().ptr(y).ptr(dy).ptr(dx).i32(outer).i32(k).i32(inner));
        }
    }

    /** logProbs = log_softmax(logits) over [n, k]; loss[0] = -mean logProbs[i, targets[i]]. Two launches. */
    public void crossEntropy(DType t, DevicePointer logits, DevicePointer targets, DevicePointer logProbs, DevicePointer loss,
                             int n, int k) {
        logSoftmax(t, logits, logProbs, n, k, 1);
        module.launch("cross_entropy_nll", t, LaunchConfig.of1d(1, KernelModule.BLOCK),
                KernelArgs.of().ptr(logProbs).ptr(targets).ptr(loss).i32(n).i32(k));
    }

    /** dLogits = (exp(logProbs) - onehot(targets)) * dLoss[0] / n. One launch. */
    public void crossEntropyBackward(DType t, DevicePointer logProbs, DevicePointer targets, DevicePointer dLoss,
                                     DevicePointer dLogits, int n, int k) {
        module.launch("cross_entropy_bwd", t, KernelModule.gridStride((long) n * k),
                KernelArgs.of().ptr(logProbs).ptr(targets).ptr(dLoss).ptr(dLogits).i32(n).i32(k));
    }

    private static LaunchConfig rowGrid(int rows) {
        return LaunchConfig.of1d(Math.max(1, ceilDiv(rows, ROWS_PER_BLOCK)), KernelModule.BLOCK);
    }
}
