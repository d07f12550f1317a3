package io.jnorm.backend.cuda;

import io.jnorm.backend.NormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.Tensor;

/**
 * The normalization family (BatchNorm, GroupNorm, LayerNorm, InstanceNorm, and the BN / GN / IN
 * parts of the layers built on them) with the CUDA kernels of src/main/cuda/norm.cu: tensors to
 * device pointers, then {@link CudaNormEngine}, which picks fused or streaming kernels.
 * The CPU reference with the same method names is {@code io.jnorm.backend.cpu.CpuNorm}.
 */
final class CudaNorm implements NormKernels {
    private final CudaNormEngine engine;

    CudaNorm(CudaNormEngine engine) {
        this.engine = engine;
    }

    @Override
    public void moments(Tensor x, NormLayout layout, Tensor mean, Tensor var) {
        engine.moments(x.dtype(), layout, ptr(x), ptr(mean), ptr(var));
    }

    @Override
    public void normalize(Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps, Tensor weight,
                          Tensor bias, Tensor y) {
        engine.normalize(x.dtype(), layout, ptr(x), ptr(mean), ptr(var), eps, ptr(weight), ptr(bias), ptr(y));
    }

    @Override
    public void normalizeWithBatchStats(Tensor x, NormLayout layout, double eps, Tensor weight, Tensor bias,
                                        Tensor y, Tensor mean, Tensor var, Tensor runningMean, Tensor runningVar,
                                        int instances, long count, double factor, Tensor counter) {
        if (counter != null && (runningMean == null || layout.reduction() != NormLayout.Reduction.PER_CHANNEL)) {
            // The kernels bump the counter with the per-channel running update; nothing else would.
            throw new IllegalArgumentException("normalizeWithBatchStats: a step counter needs running statistics "
                    + "and a per-channel layout, got " + layout);
        }
        CudaNormEngine.Running running = runningMean == null ? null
                : new CudaNormEngine.Running(ptr(runningMean), ptr(runningVar), instances, count, factor,
                        ptr(counter));
        engine.forwardTrain(x.dtype(), layout, ptr(x), ptr(weight), ptr(bias), ptr(y), ptr(mean), ptr(var), eps,
                running);
    }

    @Override
    public void normalizeBackward(Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                                  Tensor weight, boolean statsFromInput, Tensor dx, Tensor dweight, Tensor dbias) {
        engine.backward(x.dtype(), layout, ptr(dy), ptr(x), ptr(mean), ptr(var), eps, ptr(weight), statsFromInput,
                ptr(dx), ptr(dweight), ptr(dbias));
    }

    @Override
    public void updateRunningStats(Tensor batchMean, Tensor batchVar, int instances, long count, double factor,
                                   Tensor runningMean, Tensor runningVar) {
        engine.updateRunning(batchMean.dtype(), ptr(batchMean), ptr(batchVar), instances,
                Math.toIntExact(runningMean.numel()), count, factor, ptr(runningMean), ptr(runningVar));
    }

    private static DevicePointer ptr(Tensor t) {
        return t == null ? null : CudaBuffer.ptr(t);
    }
}
