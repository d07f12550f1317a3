package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;
import static io.jnorm.backend.cuda.KernelHandle.Param.F64;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;

/**
 * Batch Renorm's per-channel kernels on the GPU (src/main/cuda/batch_renorm.cu), one small
 * launch each over the C channels; the per-element work runs on the shared norm kernels, and
 * the training forward on norm.cu's fused norm_fwd_renorm when a channel fits on chip. The
 * launchers below mirror the {@code .entry} signatures and are checked against the PTX at load.
 * Scalars are passed as double for both dtypes: the kernels compute in double, as the reference does.
 */
final class CudaBatchRenorm implements BatchRenormKernels {
    static final String MODULE = "batch_renorm";

    private final PtxModules modules;
    private final CudaNormEngine engine;
    private final KernelHandle[] correction;
    private final KernelHandle[] foldAffine;
    private final KernelHandle[] gammaGrad;
    private final KernelHandle[] updateMoving;
    private final KernelHandle[] movingVariance;

    CudaBatchRenorm(PtxModules modules, CudaNormEngine engine) {
        this.modules = modules;
        this.engine = engine;
        correction = perDType(modules, MODULE, "brn_correction", I32, PTR, PTR, PTR, PTR, F64, F64, F64, PTR, PTR);
        foldAffine = perDType(modules, MODULE, "brn_fold_affine", I32, PTR, PTR, PTR, PTR, PTR, PTR);
        gammaGrad = perDType(modules, MODULE, "brn_gamma_grad", I32, PTR, PTR, PTR, PTR, PTR);
        updateMoving = perDType(modules, MODULE, "brn_update_moving", I32, PTR, PTR, F64, F64, PTR, PTR);
        movingVariance = perDType(modules, MODULE, "brn_moving_variance", I32, PTR, F64, PTR);
    }

    @Override
    public void trainForward(Tensor x, NormLayout layout, Tensor gamma, Tensor beta, Tensor movingMean,
                             Tensor movingStd, double eps, double rmax, double dmax, double momentum,
                             Tensor batchMean, Tensor batchVar, Tensor r, Tensor d, Tensor scale, Tensor y) {
        if (!engine.forwardRenorm(x.dtype(), layout, ptr(x), opt(gamma), opt(beta), ptr(y), ptr(batchMean),
                ptr(batchVar), ptr(movingMean), ptr(movingStd), ptr(r), ptr(d), ptr(scale), eps, rmax, dmax,
                momentum)) {
            BatchRenormKernels.super.trainForward(x, layout, gamma, beta, movingMean, movingStd, eps, rmax, dmax,
                    momentum, batchMean, batchVar, r, d, scale, y);
        }
    }

    private static DevicePointer opt(Tensor t) {
        return t == null ? null : ptr(t);
    }

    /**
     * One handle per dtype whose double parameters stay double (unlike {@link PtxModules#perDType},
     * which maps floating scalars to the dtype): the per-channel kernels of these families compute
     * in double for both dtypes.
     */
    static KernelHandle[] perDType(PtxModules m, String module, String base, KernelHandle.Param... params) {
        KernelHandle[] h = new KernelHandle[DType.values().length];
        for (DType t : DType.values()) {
            h[t.ordinal()] = m.kernel(module, base + "_" + t.suffix(), params);
        }
        return h;
    }

    /** A tensor's pointer, or the null pointer for an absent optional tensor. */
    static KernelArgs ptrOrNull(KernelArgs a, Tensor t) {
        return t == null ? a.address(0) : a.ptr(ptr(t));
    }

    private static int channels(Tensor t) {
        return Math.toIntExact(t.numel());
    }

    @Override
    public void correction(Tensor batchMean, Tensor batchVar, Tensor movingMean, Tensor movingStd, double eps,
                           double rmax, double dmax, Tensor r, Tensor d) {
        int c = channels(batchMean);
        correction[batchMean.dtype().ordinal()].launch(modules.grid1d(c), KernelArgs.of().i32(c).ptr(ptr(batchMean))
                .ptr(ptr(batchVar)).ptr(ptr(movingMean)).ptr(ptr(movingStd)).f64(eps).f64(rmax).f64(dmax)
                .ptr(ptr(r)).ptr(ptr(d)));
    }

    @Override
    public void foldAffine(Tensor gamma, Tensor beta, Tensor r, Tensor d, Tensor scale, Tensor shift) {
        int c = channels(r);
        KernelArgs a = KernelArgs.of().i32(c);
        ptrOrNull(a, gamma);
        ptrOrNull(a, beta);
        foldAffine[r.dtype().ordinal()].launch(modules.grid1d(c), a.ptr(ptr(r)).ptr(ptr(d)).ptr(ptr(scale))
                .ptr(ptr(shift)));
    }

    @Override
    public void gammaGrad(Tensor sumDyXhat, Tensor sumDy, Tensor r, Tensor d, Tensor dgamma) {
        int c = channels(r);
        gammaGrad[r.dtype().ordinal()].launch(modules.grid1d(c), KernelArgs.of().i32(c).ptr(ptr(sumDyXhat))
                .ptr(ptr(sumDy)).ptr(ptr(r)).ptr(ptr(d)).ptr(ptr(dgamma)));
    }

    @Override
    public void updateMoving(Tensor batchMean, Tensor batchVar, double eps, double momentum, Tensor movingMean,
                             Tensor movingStd) {
        int c = channels(batchMean);
        updateMoving[batchMean.dtype().ordinal()].launch(modules.grid1d(c), KernelArgs.of().i32(c)
                .ptr(ptr(batchMean)).ptr(ptr(batchVar)).f64(eps).f64(momentum).ptr(ptr(movingMean))
                .ptr(ptr(movingStd)));
    }

    @Override
    public void movingVariance(Tensor movingStd, double eps, Tensor var) {
        int c = channels(movingStd);
        movingVariance[movingStd.dtype().ordinal()].launch(modules.grid1d(c), KernelArgs.of().i32(c)
                .ptr(ptr(movingStd)).f64(eps).ptr(ptr(var)));
    }
}
