package io.jnorm.backend.cuda;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of ws_conv.ptx: weight standardization on its own (standardize, closed-form
 * backward) and fused into the convolution, where the standardized weight never reaches global
 * memory. A weight is viewed as [O, I] rows of fan-in I; the variant is
 * What = (W - mean) / (sqrt(var + epsIn) + epsOut), var with divisor I - 1 (unbiased) or I.
 */
public final class CudaWeightStandardizationLaunchers {

    /** The variant's constants, as in spec-ws-bcn-sn.md §1.2. */
    public record Variant(double epsIn, double epsOut, boolean unbiased) {
    }

    private final KernelModule module;
    private final CudaConvLaunchers conv;

    public CudaWeightStandardizationLaunchers(GpuDriver driver, CudaConvLaunchers conv) {
        this.module = new KernelModule(driver, "ws_conv");
        this.conv = conv;
    }

    /** stats[0:O] = row means, stats[O:2O] = 1 / (sqrt(var + epsIn) + epsOut). One launch. */
    public void stats(DType t, DevicePointer w, DevicePointer stats, int rows, int fanIn, Variant v) {
        KernelArgs args = KernelArgs.of().ptr(w).ptr(stats).i32(rows).i32(fanIn);
        module.launch("ws_stats", t, LaunchConfig.of1d(rows, KernelModule.BLOCK), tail(args, t, v));
    }

    /** what = the standardized weight. One launch, one block per row. */
    public void standardize(DType t, DevicePointer w, DevicePointer what, int rows, int fanIn, Variant v) {
        KernelArgs args = KernelArgs.of().ptr(w).ptr(what).i32(fanIn);
        module.launch("ws_standardize", t, LaunchConfig.of1d(rows, KernelModule.BLOCK), tail(args, t, v));
    }

    /** gradW from gradWHat through WS's closed form (spec §1.4). One launch. */
    public void backward(DType t, DevicePointer w, DevicePointer gradWHat, DevicePointer gradW, int rows, int fanIn, Variant v) {
        closedForm(t, w, gradWHat, 1, gradW, rows, fanIn, v);
    }

    /** y = conv(x, standardize(w)) + bias: ws_stats then ws_conv2d_fwd (2 launches). */
    public void convForward(DType t, DevicePointer x, DevicePointer w, DevicePointer bias, DevicePointer y,
                            CudaConvGeometry g, Variant v) {
        DevicePointer stats = module.driver().alloc(2L * g.o() * t.bytes());
        try {
            stats(t, w, stats, g.o(), g.fanIn(), v);
            KernelArgs args = KernelModule.optional(KernelArgs.of().ptr(x).ptr(w).ptr(stats), bias).ptr(y).bytes(g.pack(0, 1));
            module.launch("ws_conv2d_fwd", t, CudaConvLaunchers.forwardGrid(g), args);
        } finally {
            module.driver().free(stats);
        }
    }

    /** dx through the standardized weight, applied while staged: ws_stats then ws_conv2d_bwd_input. */
    public void convBackwardInput(DType t, DevicePointer dy, DevicePointer w, DevicePointer dx, CudaConvGeometry g, Variant v) {
        int shared = 2 * g.og() * t.bytes();
        int limit = module.driver().properties().maxSharedMemoryPerBlock() - 2 * 8 * (64 + 4) * t.bytes();
        if (shared > limit) {
            throw new IllegalArgumentException(String.format(
                    "ws_conv2d backward input: %d output channels per group need %d bytes of shared memory for their "
                            + "statistics, more than the %d available", g.og(), shared, limit));
        }
        DevicePointer stats = module.driver().alloc(2L * g.o() * t.bytes());
        try {
            stats(t, w, stats, g.o(), g.fanIn(), v);
            module.launch("ws_conv2d_bwd_input", t, CudaConvLaunchers.backwardInputGrid(g, shared),
                    KernelArgs.of().ptr(dy).ptr(w).ptr(stats).ptr(dx).bytes(g.pack(0, 1)));
        } finally {
            module.driver().free(stats);
        }
    }

    /**
     * dW of the raw weight: G = dL/dWhat as K-split partials (conv2d_bwd_weight), then
     * ws_bwd_weight sums them in split order and applies the closed form (2 launches).
     */
    public void convBackwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer w, DevicePointer dw,
                                   CudaConvGeometry g, Variant v) {
        convBackwardWeight(t, dy, x, w, dw, g, v,
                CudaConvLaunchers.splitsFor(g, module.driver().properties().multiprocessorCount()));
    }

    /** As above with an explicit number of K splits. */
    public void convBackwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer w, DevicePointer dw,
                                   CudaConvGeometry g, Variant v, int splits) {
        DevicePointer partial = module.driver().alloc((long) splits * g.o() * g.fanIn() * t.bytes());
        try {
            conv.launchWeightPartials(t, dy, x, partial, g, splits);
            closedForm(t, w, partial, splits, dw, g.o(), g.fanIn(), v);
        } finally {
            module.driver().free(partial);
        }
    }

    private void closedForm(DType t, DevicePointer w, DevicePointer partial, int splits, DevicePointer gradW, int rows,
                            int fanIn, Variant v) {
        KernelArgs args = KernelArgs.of().ptr(w).ptr(partial).i32(splits).ptr(gradW).i32(rows).i32(fanIn);
        module.launch("ws_bwd_weight", t, LaunchConfig.of1d(rows, KernelModule.BLOCK), tail(args, t, v));
    }

    private static KernelArgs tail(KernelArgs args, DType t, Variant v) {
        return KernelModule.scalar(KernelModule.scalar(args, t, v.epsIn()), t, v.epsOut()).i32(v.unbiased() ? 1 : 0);
    }
}
