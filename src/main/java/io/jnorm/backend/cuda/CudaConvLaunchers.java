package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.CONV;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;
import static io.jnorm.backend.cuda.LaunchGeometry.tiles;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of conv2d.ptx: implicit-GEMM forward, input gradient, K-split weight gradient
 * with its deterministic reduction, and the bias gradient. Pointers are contiguous NCHW buffers
 * of the given dtype; outputs are overwritten. Entries are checked against the PTX at load.
 */
final class CudaConvLaunchers {

    static final String MODULE = "conv2d";
    static final int TILE = 64;
    static final int TILE_K = 8;
    /** Smallest K split worth a block: 64 K steps amortize the tile's epilogue and setup. */
    static final int MIN_SPLIT_K = 512;
    /** Grid z limit of the CUDA launch API. */
    static final int MAX_GRID_Z = 65_535;

    private final KernelHandle[] forward;
    private final KernelHandle[] backwardInput;
    private final KernelHandle[] backwardWeight;
    private final KernelHandle[] wgradReduce;
    private final KernelHandle[] biasGrad;
    private final CachingAllocator allocator;
    private final int multiprocessors;

    CudaConvLaunchers(PtxModules m, CachingAllocator allocator) {
        forward = m.perDType(MODULE, "conv2d_fwd", PTR, PTR, PTR, PTR, CONV);
        backwardInput = m.perDType(MODULE, "conv2d_bwd_input", PTR, PTR, PTR, CONV);
        backwardWeight = m.perDType(MODULE, "conv2d_bwd_weight", PTR, PTR, PTR, CONV);
        wgradReduce = m.perDType(MODULE, "conv2d_wgrad_reduce", PTR, PTR, I32, I32);
        biasGrad = m.perDType(MODULE, "conv2d_bias_grad", PTR, PTR, I32, I32, I32);
        this.allocator = allocator;
        this.multiprocessors = Math.max(1, m.driver().properties().multiprocessorCount());
    }

    /** conv2d_fwd_T(x, w, bias or null, y, ConvParams): y = conv(x, w) + bias. One launch. */
    void forward(DType t, DevicePointer x, DevicePointer w, DevicePointer bias, DevicePointer y, CudaConvGeometry g) {
        KernelArgs args = LaunchGeometry.optional(KernelArgs.of().ptr(x).ptr(w), bias).ptr(y).bytes(g.pack(0, 1));
        forward[t.ordinal()].launch(forwardGrid(g), args);
    }

    /** conv2d_bwd_input_T(dy, w, dx, ConvParams): dx = the input gradient. One launch. */
    void backwardInput(DType t, DevicePointer dy, DevicePointer w, DevicePointer dx, CudaConvGeometry g) {
        backwardInput[t.ordinal()].launch(backwardInputGrid(g, 0), KernelArgs.of().ptr(dy).ptr(w).ptr(dx).bytes(g.pack(0, 1)));
    }

    /** dw = the weight gradient, split along K as {@link #splitsFor} chooses. */
    void backwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer dw, CudaConvGeometry g) {
        backwardWeight(t, dy, x, dw, g, splitsFor(g, multiprocessors));
    }

    /**
     * dw with exactly {@code splits} K splits: one launch when 1, else the partial products into a
     * temporary [splits, O, C/g*KH*KW] buffer and conv2d_wgrad_reduce summing them in split order.
     */
    void backwardWeight(DType t, DevicePointer dy, DevicePointer x, DevicePointer dw, CudaConvGeometry g, int splits) {
        if (splits == 1) {
            weightPartials(t, dy, x, dw, g, 1);
            return;
        }
        long count = (long) g.o() * g.fanIn();
        DevicePointer partial = allocator.allocate(count * splits * t.bytes());
        try {
            weightPartials(t, dy, x, partial, g, splits);
            LaunchConfig grid = LaunchConfig.of1d(tiles(count, LaunchGeometry.BLOCK), LaunchGeometry.BLOCK);
            wgradReduce[t.ordinal()].launch(grid, KernelArgs.of().ptr(partial).ptr(dw).i32(splits).i32((int) count));
        } finally {
            allocator.release(partial);
        }
    }

    /**
     * conv2d_bwd_weight_T(dy, x, out, ConvParams): the K-split partials, out [splits, O, C/g*KH*KW]
     * (dW itself when splits is 1). The weight-standardized backward sums the partials itself.
     */
    void weightPartials(DType t, DevicePointer dy, DevicePointer x, DevicePointer out, CudaConvGeometry g, int splits) {
        int chunk = chunkFor(g, splits);
        int usable = tiles(g.outputPixels(), chunk);
        if (usable != splits) {
            throw new IllegalArgumentException(String.format(
                    "conv2d weight gradient: %d splits of K = %d output pixels leave empty splits (at most %d)",
                    splits, g.outputPixels(), usable));
        }
        LaunchConfig grid = new LaunchConfig(tiles(g.fanIn(), TILE), tiles(g.og(), TILE), g.groups() * splits,
                LaunchGeometry.BLOCK, 1, 1, 0);
        backwardWeight[t.ordinal()].launch(grid, KernelArgs.of().ptr(dy).ptr(x).ptr(out).bytes(g.pack(chunk, splits)));
    }

    /** conv2d_bias_grad_T(dy, db, n, o, plane): db[o] = sum of dy over batch and pixels. One launch. */
    void biasGrad(DType t, DevicePointer dy, DevicePointer db, CudaConvGeometry g) {
        biasGrad[t.ordinal()].launch(LaunchConfig.of1d(g.o(), LaunchGeometry.BLOCK),
                KernelArgs.of().ptr(dy).ptr(db).i32(g.n()).i32(g.o()).i32(g.oh() * g.ow()));
    }

    static LaunchConfig forwardGrid(CudaConvGeometry g) {
        return new LaunchConfig(tiles(g.outputPixels(), TILE), tiles(g.og(), TILE), g.groups(), LaunchGeometry.BLOCK, 1, 1, 0);
    }

    static LaunchConfig backwardInputGrid(CudaConvGeometry g, int dynamicShared) {
        return new LaunchConfig(tiles((long) g.n() * g.h() * g.w(), TILE), tiles(g.cg(), TILE), g.groups(),
                LaunchGeometry.BLOCK, 1, 1, dynamicShared);
    }

    /**
     * K splits for the weight gradient: enough blocks to give every multiprocessor about four,
     * but no split shorter than {@link #MIN_SPLIT_K} pixels, and never an empty split.
     */
    static int splitsFor(CudaConvGeometry g, int multiprocessors) {
        long tileCount = (long) tiles(g.fanIn(), TILE) * tiles(g.og(), TILE) * g.groups();
        long wanted = Math.max(1, (4L * multiprocessors + tileCount - 1) / tileCount);
        long byLength = Math.max(1, g.outputPixels() / MIN_SPLIT_K);
        long byGrid = Math.max(1, MAX_GRID_Z / g.groups());
        int splits = (int) Math.min(Math.min(wanted, byLength), byGrid);
        // Round the chunk to whole K tiles, then drop splits that would be empty.
        return tiles(g.outputPixels(), chunkFor(g, splits));
    }

    /** K elements per split, a multiple of the K tile so splits start on a tile boundary. */
    static int chunkFor(CudaConvGeometry g, int splits) {
        long perSplit = (g.outputPixels() + splits - 1) / splits;
        return (int) Math.max(TILE_K, (perSplit + TILE_K - 1) / TILE_K * TILE_K);
    }
}
