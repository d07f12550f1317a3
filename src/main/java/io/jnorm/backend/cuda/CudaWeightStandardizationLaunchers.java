package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.CONV;
import static io.jnorm.backend.cuda.KernelHandle.Param.F32;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of ws_conv.ptx: weight standardization on its own (standardize, closed-form
 * backward) and fused into the convolution, where the standardized weight never reaches global
 * memory. A weight is viewed as [O, I] rows of fan-in I; the variant is
 * What = (W - mean) / (sqrt(var + epsIn) + epsOut), var with divisor I - 1 (unbiased) or I.
 */
final class CudaWeightStandardizationLaunchers {

    static final String MODULE = "ws_conv";

    /** The variant's constants, as in spec-ws-bcn-sn.md §1.2. */
    record Variant(double epsIn, double epsOut, boolean unbiased) {
    }

    private final KernelHandle[] stats;
    private final KernelHandle[] standardize;
    private final KernelHandle[] backward;
    private final KernelHandle[] convForward;
    private final KernelHandle[] convBackwardInput;
    private final CudaConvLaunchers conv;
    private final CachingAllocator allocator;
    private final int sharedPerBlock;
    private final int multiprocessors;

    CudaWeightStandardizationLaunchers(PtxModules m, CachingAllocator allocator, CudaConvLaunchers conv) {
        stats = m.perDType(MODULE, "ws_stats", PTR, PTR, I32, I32, F32, F32, I32);
        standardize = m.perDType(MODULE, "ws_standardize", PTR, PTR, I32, F32, F32, I32);
        backward = m.perDType(MODULE, "ws_bwd_weight", PTR, PTR, I32, PTR, I32, I32, F32, F32, I32);
        convForward = m.perDType(MODULE, "ws_conv2d_fwd", PTR, PTR, PTR, PTR, PTR, CONV);
        convBackwardInput = m.perDType(MODULE, "ws_conv2d_bwd_input", PTR, PTR, PTR, PTR, CONV);
        this.conv = conv;
        this.allocator = allocator;
        this.sharedPerBlock = m.driver().properties().maxSharedMemoryPerBlock();
        this.multiprocessors = Math.max(1, m.driver().properties().multiprocessorCount());
    }

    /** ws_stats_T: stats[0:O] = row means, stats[O:2O] = 1 / (sqrt(var + epsIn) + epsOut). One launch. */
    void stats(DType t, DevicePointer w, DevicePointer out, int rows, int fanIn, Variant v) {
        stats[t.ordinal()].launch(LaunchConfig.of1d(rows, LaunchGeometry.BLOCK),
                tail(KernelArgs.of().ptr(w).ptr(out).i32(rows).i32(fanIn), t, v));
    }

    /** ws_standardize_T: what = the standardized weight. One launch, one block per row. */
    void standardize(DType t, DevicePointer w, DevicePointer what, int rows, int fanIn, Variant v) {
        standardize[t.ordinal()].launch(LaunchConfig.of1d(rows, LaunchGeometry.BLOCK),
                tail(KernelArgs.of().ptr(w).ptr(what).i32(fanIn), t, v));
    }

    /** gradW from gradWHat through WS's closed form (spec §1.4). One launch. */
    void backward(DType t, DevicePointer w, DevicePointer gradWHat, DevicePointer gradW, int rows, int fanIn, Variant v) {
        closedForm(t, w, gradWHat, 1, gradW, rows, fanIn, v);
    }

    /** y = conv(x, standardize(w)) + bias: ws_stats then ws_conv2d_fwd (2 launches). */
    void convForward(DType t, DevicePointer x, DevicePointer w, DevicePointer bias, DevicePointer y, CudaConvGeometry g,
                     Variant v) {
        DevicePointer st = allocator.allocate(2L * g.o() * t.bytes());
        try {
            stats(t, w, st, g.o(), g.fanIn(), v);
            KernelArgs args = LaunchGeometry.optional(KernelArgs.of().ptr(x).ptr(w).ptr(st), bias).ptr(y).bytes(g.pack(0, 1));
            convForward[t.ordinal()].launch(CudaConvLaunchers.forwardGrid(g), args);
        } finally {
            allocator.release(st);
        }
    }

    /** dx through the standardized weight, applied while staged: ws_stats then ws_conv2d_bwd_input. */
    void convBackwardInput(DType t, DevicePointer dy, DevicePointer w, DevicePointer dx, CudaConvGeometry g, Variant v) {
        int shared = 2 * g.og() * t.bytes();
        int limit = sharedPerBlock - 2 * CudaConvLaunchers.TILE_K * (CudaConvLaunchers.TILE + 4) * t.bytes();
        if (shared > limit) {
            throw new IllegalArgumentException(String.format(
                    "ws_conv2d backward input: %d output channels per group need %d bytes of shared memory for their "
                            + "statistics, more than the %d available", g.og(), shared, limit));
        }
        DevicePointer st = allocator.allocate(2L * g.o() * t.bytes());
        try {
            stats(t, w, st, g.o(), g.fanIn(), v);
            convBackwardInput[t.ordinal()].launch(CudaConvLaunchers.backwardInputGrid(g, shared),
                    KernelArgs.of().ptr(dy).ptr(w).ptr(st).ptr(dx).bytes(g.pack(0, 1)));
        } finally {
            allocator.release(st);
        }
    }

    /** dW of the raw weight with the K splits {@link CudaConvLaunchers#splitsFor} chooses. */
    void convBackwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer w, DevicePointer dw,
                            CudaConvGeometry g, Variant v) {
        convBackwardWeight(t, dy, x, w, dw, g, v, CudaConvLaunchers.splitsFor(g, multiprocessors));
    }

    /**
     * dW of the raw weight: G = dL/dWhat as K-split partials (conv2d_bwd_weight; the weight
     * gradient of a convolution does not read the weight), then ws_bwd_weight sums them in split
     * order and applies the closed form (2 launches).
     */
    void convBackwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer w, DevicePointer dw,
                            CudaConvGeometry g, Variant v, int splits) {
        DevicePointer partial = allocator.allocate((long) splits * g.o() * g.fanIn() * t.bytes());
        try {
            conv.weightPartials(t, dy, x, partial, g, splits);
            closedForm(t, w, partial, splits, dw, g.o(), g.fanIn(), v);
        } finally {
            allocator.release(partial);
        }
    }

    /** ws_bwd_weight_T(w, partial, splits, gradW, rows, fanIn, epsIn, epsOut, unbiased). */
    private void closedForm(DType t, DevicePointer w, DevicePointer partial, int splits, DevicePointer gradW, int rows,
                            int fanIn, Variant v) {
        backward[t.ordinal()].launch(LaunchConfig.of1d(rows, LaunchGeometry.BLOCK),
                tail(KernelArgs.of().ptr(w).ptr(partial).i32(splits).ptr(gradW).i32(rows).i32(fanIn), t, v));
    }

    private static KernelArgs tail(KernelArgs args, DType t, Variant v) {
        return ElementwisePtx.scalar(ElementwisePtx.scalar(args, t, v.epsIn()), t, v.epsOut()).i32(v.unbiased() ? 1 : 0);
    }
}
