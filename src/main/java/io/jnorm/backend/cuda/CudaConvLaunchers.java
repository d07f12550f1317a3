package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelModule.ceilDiv;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDriver;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of conv2d.ptx: implicit-GEMM forward, input gradient, K-split weight gradient
 * with its deterministic reduction, and the bias gradient. Pointers are contiguous NCHW buffers
 * of the given dtype; outputs are overwritten.
 */
public final class CudaConvLaunchers {

    static final int TILE = 64;
    static final int TILE_K = 8;
    /** Smallest K split worth a block: 64 K steps amortize the tile's epilogue and setup. */
    static final int MIN_SPLIT_K = 512;
    /** Grid z limit of the CUDA launch API. */
    static final int MAX_GRID_Z = 65_535;

    private final KernelModule module;

    public CudaConvLaunchers(GpuDriver driver) {
        this.module = new KernelModule(driver, "conv2d");
    }

    /** y = conv(x, w) + bias ({@code bias} may be null). One launch. */
    public void forward(DType t, DevicePointer x, DevicePointer w, DevicePointer bias, DevicePointer y, CudaConvGeometry g) {
        KernelArgs args = KernelModule.optional(KernelArgs.of().ptr(x).ptr(w), bias).ptr(y).bytes(g.pack(0, 1));
        module.launch("conv2d_fwd", t, forwardGrid(g), args);
    }

    /** dx = the input gradient of the convolution. One launch. */
    public void backwardInput(DType t, DevicePointer dy, DevicePointer w, DevicePointer dx, CudaConvGeometry g) {
        module.launch("conv2d_bwd_input", t, backwardInputGrid(g, 0),
                KernelArgs.of().ptr(dy).ptr(w).ptr(dx).bytes(g.pack(0, 1)));
    }

    /** dw = the weight gradient, split along K as {@link #splitsFor} chooses. */
    public void backwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer dw, CudaConvGeometry g) {
        backwardWeight(t, dy, x, dw, g, splitsFor(g, module.driver().properties().multiprocessorCount()));
    }

    /**
     * dw with exactly {@code splits} K splits: one launch when 1, else the partial products into a
     * temporary [splits, O, C/g*KH*KW] buffer and a second launch summing them in split order.
     */
    public void backwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer dw, CudaConvGeometry g, int splits) {
        if (splits == 1) {
            launchWeightPartials(t, dy, x, dw, g, 1);
            return;
        }
        long count = (long) g.o() * g.fanIn();
        GpuDriver driver = module.driver();
        DevicePointer partial = driver.alloc(count * splits * t.bytes());
        try {
            launchWeightPartials(t, dy, x, partial, g, splits);
            module.launch("conv2d_wgrad_reduce", t, KernelModule.gridStride(count),
                    KernelArgs.of().ptr(partial).ptr(dw).i32(splits).i32((int) count));
        } finally {
            driver.free(partial);
        }
    }

    /**
     * The K-split weight-gradient partials only: out is [splits, O, C/g*KH*KW] (dW itself when
     * splits is 1). Used by the weight-standardized backward, which sums the partials itself.
     */
    void launchWeightPartials(DType t, DevicePointer dy, DevicePointer x, DevicePointer out, CudaConvGeometry g, int splits) {
        int chunk = chunkFor(g, splits);
        int realSplits = ceilDiv(Math.max(1, g.outputPixels()), chunk);
        if (realSplits != splits) {
            throw new IllegalArgumentException(String.format(
                    "conv2d weight gradient: %d splits of K = %d pixels leave empty splits (use at most %d)",
                    splits, g.outputPixels(), realSplits));
        }
        LaunchConfig grid = new LaunchConfig(ceilDiv(g.fanIn(), TILE), ceilDiv(g.og(), TILE), g.groups() * splits,
                KernelModule.BLOCK, 1, 1, 0);
        module.launch("conv2d_bwd_weight", t, grid, KernelArgs.of().ptr(dy).ptr(x).ptr(out).bytes(g.pack(chunk, splits)));
    }

    /** db[o] = sum of dy over batch and pixels. One launch, one block per channel. */
    public void biasGrad(DType t, DevicePointer dy, DevicePointer db, CudaConvGeometry g) {
        module.launch("conv2d_bias_grad", t, LaunchConfig.of1d(g.o(), KernelModule.BLOCK),
                KernelArgs.of().ptr(dy).ptr(db).i32(g.n()).i32(g.o()).i32(g.oh() * g.ow()));
    }

    static LaunchConfig forwardGrid(CudaConvGeometry g) {
        return new LaunchConfig(ceilDiv(g.outputPixels(), TILE), ceilDiv(g.og(), TILE), g.groups(), KernelModule.BLOCK, 1, 1, 0);
    }

    static LaunchConfig backwardInputGrid(CudaConvGeometry g, int dynamicShared) {
        return new LaunchConfig(ceilDiv((long) g.n() * g.h() * g.w(), TILE), ceilDiv(g.cg(), TILE), g.groups(),
                KernelModule.BLOCK, 1, 1, dynamicShared);
    }

    /**
     * K splits for the weight gradient: enough blocks to give every multiprocessor about four,
     * but no split shorter than {@link #MIN_SPLIT_K} pixels, and never an empty split.
     */
    static int splitsFor(CudaConvGeometry g, int multiprocessors) {
        long tiles = (long) ceilDiv(g.fanIn(), TILE) * ceilDiv(g.og(), TILE) * g.groups();
        long wanted = Math.max(1, (4L * multiprocessors + tiles - 1) / tiles);
        long byLength = Math.max(1, g.outputPixels() / MIN_SPLIT_K);
        long byGrid = Math.max(1, MAX_GRID_Z / g.groups());
        int splits = (int) Math.min(Math.min(wanted, byLength), byGrid);
        // Round the chunk to whole K tiles, then drop splits that would be empty.
        return ceilDiv(Math.max(1, g.outputPixels()), chunkFor(g, splits));
    }

    /** K elements per split, a multiple of the K tile so splits start on a tile boundary. */
    static int chunkFor(CudaConvGeometry g, int splits) {
        long perSplit = (g.outputPixels() + splits - 1) / splits;
        return (int) Math.max(TILE_K, (perSplit + TILE_K - 1) / TILE_K * TILE_K);
    }
}
