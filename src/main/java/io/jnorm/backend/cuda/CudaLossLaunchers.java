package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;
import static io.jnorm.backend.cuda.LaunchGeometry.tiles;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of softmax.ptx. A tensor is viewed as [outer, k, inner] around the softmax
 * axis: rows (inner == 1) go to the warp-per-row kernels, other layouts to the
 * thread-per-column kernels, whose lanes then read consecutive addresses.
 */
final class CudaLossLaunchers {

    static final String MODULE = "softmax";
    private static final int ROWS_PER_BLOCK = LaunchGeometry.BLOCK / 32;

    private final PtxModules modules;
    private final KernelHandle[] rows;
    private final KernelHandle[] cols;
    private final KernelHandle[] bwdRows;
    private final KernelHandle[] bwdCols;
    private final KernelHandle[] ceLse;
    private final KernelHandle[] nll;
    private final KernelHandle[] ceBackward;

    CudaLossLaunchers(PtxModules m) {
        modules = m;
        rows = m.perDType(MODULE, "log_softmax_rows", PTR, PTR, I32, I32);
        cols = m.perDType(MODULE, "log_softmax_cols", PTR, PTR, I32, I32, I32);
        bwdRows = m.perDType(MODULE, "log_softmax_bwd_rows", PTR, PTR, PTR, I32, I32);
        bwdCols = m.perDType(MODULE, "log_softmax_bwd_cols", PTR, PTR, PTR, I32, I32, I32);
        ceLse = m.perDType(MODULE, "cross_entropy_lse", PTR, PTR, I32, I32);
        nll = m.perDType(MODULE, "cross_entropy_nll", PTR, PTR, PTR, PTR, I32, I32);
        ceBackward = m.perDType(MODULE, "cross_entropy_bwd", PTR, PTR, PTR, PTR, PTR, I32, I32);
    }

    /** y = x - logsumexp(x) along k. One launch. */
    void logSoftmax(DType t, DevicePointer x, DevicePointer y, int outer, int k, int inner) {
        if (inner == 1) {
            rows[t.ordinal()].launch(rowGrid(outer), KernelArgs.of().ptr(x).ptr(y).i32(outer).i32(k));
        } else {
            cols[t.ordinal()].launch(modules.grid1d((long) outer * inner),
                    KernelArgs.of().ptr(x).ptr(y).i32(outer).i32(k).i32(inner));
        }
    }

    /** dx = dy - exp(y) * sum(dy) along k. One launch. */
    void logSoftmaxBackward(DType t, DevicePointer y, DevicePointer dy, DevicePointer dx, int outer, int k, int inner) {
        if (inner == 1) {
            bwdRows[t.ordinal()].launch(rowGrid(outer), KernelArgs.of().ptr(y).ptr(dy).ptr(dx).i32(outer).i32(k));
        } else {
            bwdCols[t.ordinal()].launch(modules.grid1d((long) outer * inner),
                    KernelArgs.of().ptr(y).ptr(dy).ptr(dx).i32(outer).i32(k).i32(inner));
        }
    }

    /** lse[i] = logsumexp(logits[i, :]) over [n, k]; loss[0] = mean (lse[i] - logits[i, targets[i]]). Two launches. */
    void crossEntropy(DType t, DevicePointer logits, DevicePointer targets, DevicePointer lse, DevicePointer loss,
                      int n, int k) {
        ceLse[t.ordinal()].launch(rowGrid(n), KernelArgs.of().ptr(logits).ptr(lse).i32(n).i32(k));
        nll[t.ordinal()].launch(LaunchConfig.of1d(1, LaunchGeometry.BLOCK),
                KernelArgs.of().ptr(logits).ptr(targets).ptr(lse).ptr(loss).i32(n).i32(k));
    }

    /** dLogits = (exp(logits - lse) - onehot(targets)) * dLoss[0] / n, one warp per row. One launch. */
    void crossEntropyBackward(DType t, DevicePointer logits, DevicePointer targets, DevicePointer lse,
                              DevicePointer dLoss, DevicePointer dLogits, int n, int k) {
        ceBackward[t.ordinal()].launch(rowGrid(n),
                KernelArgs.of().ptr(logits).ptr(targets).ptr(lse).ptr(dLoss).ptr(dLogits).i32(n).i32(k));
    }

    private static LaunchConfig rowGrid(int nrows) {
        return LaunchConfig.of1d(tiles(nrows, ROWS_PER_BLOCK), LaunchGeometry.BLOCK);
    }
}
