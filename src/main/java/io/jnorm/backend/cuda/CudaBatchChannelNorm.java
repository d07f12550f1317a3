package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;
import static io.jnorm.backend.cuda.KernelHandle.Param.F64;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.tensor.Tensor;

/**
 * Batch-Channel Norm's own kernels on the GPU (src/main/cuda/batch_channel_norm.cu): EstBN's
 * estimate update and the per-group / per-channel affine mapping, one small launch each; the
 * statistics, normalize and backward of both stages run on the shared norm kernels.
 */
final class CudaBatchChannelNorm implements BatchChannelNormKernels {
    static final String MODULE = "batch_channel_norm";

    private final PtxModules modules;
    private final KernelHandle[] updateEstimates;
    private final KernelHandle[] expandGroups;
    private final KernelHandle[] sumGroups;

    CudaBatchChannelNorm(PtxModules modules) {
        this.modules = modules;
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
