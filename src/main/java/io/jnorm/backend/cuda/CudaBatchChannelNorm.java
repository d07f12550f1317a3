package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;
import static io.jnorm.backend.cuda.KernelHandle.Param.F64;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.tensor.Tensor;

/**
 * Batch-Channel Norm's own kernels on the GPU (src/main/cuda/batch_channel_norm.cu): EstBN's
 * estimate update and the per-group / per-channel affine mapping, one small launch each; the
 * statistics, normalize and backward of both stages run on the shared norm kernels, and EstBN's
 * training forward on norm.cu's fused norm_fwd_est when a channel fits on chip.
 */
final class CudaBatchChannelNorm implements BatchChannelNormKernels {
    static final String MODULE = "batch_channel_norm";

    private final PtxModules modules;
    private final CudaNormEngine engine;
    private final KernelHandle[] updateEstimates;
    private final KernelHandle[] expandGroups;
    private final KernelHandle[] sumGroups;

    CudaBatchChannelNorm(PtxModules modules, CudaNormEngine engine) {
        this.modules = modules;
        this.engine = engine;
        updateEstimates = CudaBatchRenorm.perDType(modules, MODULE, "bcn_update_estimates", I32, PTR, PTR, F64, PTR, PTR);
        expandGroups = CudaBatchRenorm.perDType(modules, MODULE, "bcn_expand_groups", I32, I32, PTR, PTR);
        sumGroups = CudaBatchRenorm.perDType(modules, MODULE, "bcn_sum_groups", I32, I32, PTR, PTR);
    }

    @Override
    public void updateEstimates(Tensor batchMean, Tensor batchVar, double rate, Tensor estMean, Tensor estVar) {
        int c = Math.toIntExact(batchMean.numel());
        updateEstimates[batchMean.dtype().ordinal()].launch(modules.grid1d(c), KernelArgs.of().i32(c)
                .ptr(ptr(batchMean)).ptr(ptr(batchVar)).f64(rate).ptr(ptr(estMean)).ptr(ptr(estVar)));
    }

    @Override
    public void estimatedForward(Tensor x, NormLayout layout, double rate, double eps, Tensor weight, Tensor bias,
                                 Tensor batchMean, Tensor batchVar, Tensor estMean, Tensor estVar, Tensor y) {
        if (!engine.forwardEstimate(x.dtype(), layout, ptr(x), opt(weight), opt(bias), ptr(y), ptr(batchMean),
                ptr(batchVar), ptr(estMean), ptr(estVar), rate, eps)) {
            BatchChannelNormKernels.super.estimatedForward(x, layout, rate, eps, weight, bias, batchMean, batchVar,
                    estMean, estVar, y);
        }
    }

    private static DevicePointer opt(Tensor t) {
        return t == null ? null : ptr(t);
    }

    @Override
    public void expandGroups(Tensor perGroup, Tensor perChannel) {
        int c = Math.toIntExact(perChannel.numel());
        int g = Math.toIntExact(perGroup.numel());
        expandGroups[perGroup.dtype().ordinal()].launch(modules.grid1d(c), KernelArgs.of().i32(c).i32(g)
                .ptr(ptr(perGroup)).ptr(ptr(perChannel)));
    }

    @Override
    public void sumGroups(Tensor perChannel, Tensor perGroup) {
        int c = Math.toIntExact(perChannel.numel());
        int g = Math.toIntExact(perGroup.numel());
        sumGroups[perChannel.dtype().ordinal()].launch(modules.grid1d(g), KernelArgs.of().i32(c).i32(g)
                .ptr(ptr(perChannel)).ptr(ptr(perGroup)));
    }
}
