package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBatchRenorm.ptrOrNull;
import static io.jnorm.backend.cuda.CudaBuffer.ptr;
import static io.jnorm.backend.cuda.KernelHandle.Param.F32;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;

/**
 * Switchable Norm on the GPU (src/main/cuda/switchable_norm.cu). A forward is two launches
 * ({@code sn_statistics}: IN, LN and BN statistics in one pass over x; {@code sn_forward}: both
 * softmax mixes and the normalize), three tensor transfers; a backward is four launches
 * ({@code sn_backward_reduce}, {@code sn_backward_logits}, {@code sn_backward_sums},
 * {@code sn_backward_input}), five tensor transfers. Rows use 16-byte vectors when L is a
 * multiple of the vector width.
 */
final class CudaSwitchableNorm implements SwitchableNormKernels {
    static final String MODULE = "switchable_norm";
    /** The logits kernel's block: N·C values, a single block with double sums. */
    private static final int LOGITS_BLOCK = 256;

    private final PtxModules modules;
    private final CachingAllocator allocator;
    private final KernelHandle[] statistics;
    private final KernelHandle[] forward;
    private final KernelHandle[] backwardReduce;
    private final KernelHandle[] backwardLogits;
    private final KernelHandle[] backwardSums;
    private final KernelHandle[] backwardInput;

    CudaSwitchableNorm(PtxModules modules, CachingAllocator allocator) {
        this.modules = modules;
        this.allocator = allocator;
        statistics = modules.perDType(MODULE, "sn_statistics", PTR, I32, I32, I32, PTR, PTR, PTR, PTR, PTR, PTR, PTR,
                I32);
        forward = modules.perDType(MODULE, "sn_forward", PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, I32, PTR, PTR,
                F32, I32, I32, I32, PTR, PTR, PTR, I32);
        backwardReduce = modules.perDType(MODULE, "sn_backward_reduce", PTR, PTR, PTR, PTR, PTR, I32, I32, I32, PTR,
                PTR, PTR, PTR, PTR, PTR, I32);
        backwardLogits = modules.perDType(MODULE, "sn_backward_logits", PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR,
                PTR, I32, I32, I32, PTR, PTR);
        backwardSums = modules.perDType(MODULE, "sn_backward_sums", PTR, PTR, I32, I32, PTR);
        backwardInput = modules.perDType(MODULE, "sn_backward_input", PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR, PTR,
                PTR, PTR, I32, I32, I32, I32, I32, PTR, PTR, I32);
    }

    /** N, C, L of an NCHW input and whether its rows take 16-byte vectors. */
    private record Geometry(int n, int c, int l, boolean vec) {
        static Geometry of(Tensor x) {
            int l = x.dim(2) * x.dim(3);
            int width = 16 / x.dtype().bytes();
            return new Geometry(x.dim(0), x.dim(1), l, l % width == 0);
        }

        int instances() {
            return n * c;
        }

        /** Vectors (or scalars) per row: the unit the row loops stride over. */
        int rowItems(DType t) {
            return vec ? l / (16 / t.bytes()) : l;
        }
    }

    /** A block of whole warps no wider than the work, at most 256 threads. */
    static int blockFor(long work) {
        return (int) Math.min(PtxModules.BLOCK, Math.max(32, (work + 31) / 32 * 32));
    }

    private LaunchConfig perRow(int rows, Geometry g, DType t) {
        return LaunchConfig.of1d(Math.min(rows, modules.maxRowBlocks()), blockFor(g.rowItems(t)));
    }

    /** A zeroed device scratch block, released (stream-ordered) by the caller after its launches. */
    private DevicePointer scratch(long bytes) {
        DevicePointer p = allocator.allocate(bytes);
        modules.driver().memsetZero(p, 0, bytes);
        return p;
    }

    private static KernelArgs scalar(KernelArgs a, DType t, double v) {
        return t == DType.F32 ? a.f32((float) v) : a.f64(v);
    }

    @Override
    public void statistics(Tensor x, Stats out) {
        Geometry g = Geometry.of(x);
        DType t = x.dtype();
        LaunchConfig cfg = perRow(g.instances(), g, t);
        DevicePointer ticket = scratch(4);
        try {
            KernelArgs a = KernelArgs.of().ptr(ptr(x)).i32(g.n()).i32(g.c()).i32(g.l()).ptr(ptr(out.meanIn()))
                    .ptr(ptr(out.varIn())).ptr(ptr(out.meanLn())).ptr(ptr(out.varLn()));
            ptrOrNull(a, out.meanBn());
            ptrOrNull(a, out.varBn());
            statistics[t.ordinal()].launch(cfg, a.ptr(ticket).i32(g.vec() ? 1 : 0));
        } finally {
            allocator.release(ticket);
        }
    }

    /** The six statistics pointers (BN ones null when not mixed). */
    private static KernelArgs stats(KernelArgs a, Stats s) {
        a.ptr(ptr(s.meanIn())).ptr(ptr(s.varIn())).ptr(ptr(s.meanLn())).ptr(ptr(s.varLn()));
        ptrOrNull(a, s.meanBn());
        return ptrOrNull(a, s.varBn());
    }

    @Override
    public void forward(Tensor x, Stats stats, Tensor meanLogits, Tensor varLogits, Tensor gamma, Tensor beta,
                        double eps, Tensor y, Tensor mean, Tensor rstd) {
        Geometry g = Geometry.of(x);
        DType t = x.dtype();
        KernelArgs a = stats(KernelArgs.of().ptr(ptr(x)), stats).ptr(ptr(meanLogits)).ptr(ptr(varLogits))
                .i32(stats.terms());
        ptrOrNull(a, gamma);
        ptrOrNull(a, beta);
        scalar(a, t, eps).i32(g.n()).i32(g.c()).i32(g.l()).ptr(ptr(y)).ptr(ptr(mean)).ptr(ptr(rstd))
                .i32(g.vec() ? 1 : 0);
        forward[t.ordinal()].launch(perRow(g.instances(), g, t), a);
    }

    @Override
    public void backwardReduce(Tensor x, Tensor dy, Tensor mean, Tensor rstd, Tensor gamma, Tensor a, Tensor b,
                               Tensor dGamma, Tensor dBeta) {
        Geometry g = Geometry.of(x);
        DType t = x.dtype();
        DevicePointer rowSums = allocator.allocate(2L * g.instances() * t.bytes());
        DevicePointer ticket = scratch(4);
        try {
            KernelArgs k = KernelArgs.of().ptr(ptr(x)).ptr(ptr(dy)).ptr(ptr(mean)).ptr(ptr(rstd));
            ptrOrNull(k, gamma).i32(g.n()).i32(g.c()).i32(g.l()).ptr(ptr(a)).ptr(ptr(b));
            ptrOrNull(k, dGamma);
            ptrOrNull(k, dBeta).ptr(rowSums).ptr(ticket).i32(g.vec() ? 1 : 0);
            backwardReduce[t.ordinal()].launch(perRow(g.instances(), g, t), k);
        } finally {
            allocator.release(ticket);
            allocator.release(rowSums);
        }
    }

    @Override
    public void backwardLogits(Tensor a, Tensor b, Stats stats, Tensor meanLogits, Tensor varLogits,
                               Tensor dMeanLogits, Tensor dVarLogits) {
        KernelArgs k = stats(KernelArgs.of().ptr(ptr(a)).ptr(ptr(b)), stats).ptr(ptr(meanLogits))
                .ptr(ptr(varLogits)).i32(stats.terms()).i32(a.dim(0)).i32(a.dim(1));
        ptrOrNull(k, dMeanLogits);
        ptrOrNull(k, dVarLogits);
        backwardLogits[a.dtype().ordinal()].launch(LaunchConfig.of1d(1, LOGITS_BLOCK), k);
    }

    @Override
    public void backwardInput(Tensor x, Tensor dy, Tensor a, Tensor b, Stats stats, Tensor rstd, Tensor gamma,
                              Tensor meanLogits, Tensor varLogits, boolean bnFromBatch, Tensor dx) {
        Geometry g = Geometry.of(x);
        DType t = x.dtype();
        DevicePointer sums = scratch(8L * (2L * g.n() + 2L * g.c()));
        try {
            backwardSums[t.ordinal()].launch(
                    LaunchConfig.of1d(Math.min(g.n() + g.c(), modules.maxRowBlocks()), blockFor(Math.max(g.n(), g.c()))),
                    KernelArgs.of().ptr(ptr(a)).ptr(ptr(b)).i32(g.n()).i32(g.c()).ptr(sums));
            KernelArgs k = KernelArgs.of().ptr(ptr(x)).ptr(ptr(dy)).ptr(ptr(a)).ptr(ptr(b)).ptr(ptr(stats.meanIn()))
                    .ptr(ptr(stats.meanLn()));
            ptrOrNull(k, stats.meanBn()).ptr(ptr(rstd));
            ptrOrNull(k, gamma).ptr(ptr(meanLogits)).ptr(ptr(varLogits)).i32(stats.terms()).i32(bnFromBatch ? 1 : 0)
                    .i32(g.n()).i32(g.c()).i32(g.l()).ptr(sums).ptr(ptr(dx)).i32(g.vec() ? 1 : 0);
            backwardInput[t.ordinal()].launch(perRow(g.instances(), g, t), k);
        } finally {
            allocator.release(sums);
        }
    }
}
