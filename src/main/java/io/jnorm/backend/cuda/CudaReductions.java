package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.ReductionKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/**
 * Reductions on the GPU (reduce.cu), without materializing a permute: the axes are grouped into
 * runs of kept and reduced axes (size-1 axes dropped, neighbours of the same kind merged) and
 * <ul>
 *   <li>one reduced run at the end ([kept, reduced]) reads rows: {@code reduce_rows}, or
 *       {@code reduce_rows_warp} (a warp per row) when rows are short;</li>
 *   <li>one reduced run elsewhere ([kept, reduced, kept]) reads columns: {@code reduce_cols};</li>
 *   <li>anything else (BN's reduced, kept, reduced) uses index maps: {@code reduce_general}.</li>
 * </ul>
 */
final class CudaReductions implements ReductionKernels {
    private final PtxModules modules;
    private final ReducePtx ptx;
    private final CachingAllocator allocator;

    CudaReductions(PtxModules modules, CachingAllocator allocator) {
        this.modules = modules;
        this.ptx = new ReducePtx(modules);
        this.allocator = allocator;
    }

    @Override
    public void sum(Tensor x, boolean[] reduce, Tensor out) {
        reduce(x, reduce, ReducePtx.SUM, 0, ptr(out), "sum");
    }

    @Override
    public void mean(Tensor x, boolean[] reduce, Tensor out) {
        reduce(x, reduce, ReducePtx.MEAN, 0, ptr(out), "mean");
    }

    @Override
    public void var(Tensor x, boolean[] reduce, int correction, Tensor out) {
        reduce(x, reduce, ReducePtx.VAR, correction, ptr(out), "var");
    }

    @Override
    public void varBackward(Tensor x, Tensor dy, boolean[] reduce, int correction, Tensor dx) {
        DType t = x.dtype();
        long outputs = dy.numel();
        DevicePointer mean = allocator.allocate(outputs * t.bytes());
        try {
            reduce(x, reduce, ReducePtx.MEAN, 0, mean, "varBackward");
            int[] xd = x.shape().dims();
            int[] kept = xd.clone();
            for (int a = 0; a < kept.length; a++) {
                if (reduce[a]) {
                    kept[a] = 1;
                }
            }
            StridedMaps.Layout toOut = StridedMaps.coalesce(xd, StridedMaps.broadcastStrides(kept, xd));
            int n = CudaShapes.checkedIndexRange(x.numel(), "varBackward", x);
            double denom = (double) x.numel() / outputs - correction;
            ptx.varBackward(t, modules.grid1d(n), n, denom, ptr(x), ptr(dy), mean, ptr(dx),
                    StridedMaps.encode(toOut, "varBackward"));
        } finally {
            // Stream order makes this safe: the next owner's kernels run after var_backward.
            allocator.release(mean);
        }
    }

    /** The launch for one reduction of x into {@code out} (keep-dim order). */
    private void reduce(Tensor x, boolean[] reduce, int mode, int correction, DevicePointer out, String op) {
        DType t = x.dtype();
        int[] d = x.shape().dims();
        // Runs of same-kind axes, outermost first: sizes and whether reduced.
        long[] size = new long[d.length];
        boolean[] red = new boolean[d.length];
        int runs = 0;
        for (int a = 0; a < d.length; a++) {
            if (d[a] == 1) {
                continue;
            }
            if (runs > 0 && red[runs - 1] == reduce[a]) {
                size[runs - 1] *= d[a];
            } else {
                size[runs] = d[a];
                red[runs] = reduce[a];
                runs++;
            }
        }
        int reducedRuns = 0;
        int lastReduced = -1;
        for (int i = 0; i < runs; i++) {
            if (red[i]) {
                reducedRuns++;
                lastReduced = i;
            }
        }
        long numel = x.numel();
        CudaShapes.checkedIndexRange(numel, op, x);
        if (reducedRuns == 0) {
            // Nothing to reduce over (only size-1 axes): each output reads one element.
            cols(t, mode, correction, 1, 1, (int) numel, x, out);
        } else if (reducedRuns == 1) {
            long outer = 1;
            for (int i = 0; i < lastReduced; i++) {
                outer *= size[i];
            }
            long inner = numel / outer / size[lastReduced];
            if (inner == 1) {
                rows(t, mode, correction, (int) outer, (int) size[lastReduced], x, out);
            } else {
                cols(t, mode, correction, (int) outer, (int) size[lastReduced], (int) inner, x, out);
            }
        } else {
            general(t, mode, correction, Arrays.copyOf(size, runs), Arrays.copyOf(red, runs), x, out, op);
        }
    }

    /** Rows up to this long get a warp each instead of a block. */
    static final int WARP_ROW_LIMIT = 64;

    private void rows(DType t, int mode, int correction, int rows, int len, Tensor x, DevicePointer out) {
        if (len <= WARP_ROW_LIMIT && rows > 1) {
            int warpsPerBlock = PtxModules.BLOCK / 32;
            int blocks = (int) Math.min((rows + warpsPerBlock - 1L) / warpsPerBlock, modules.maxRowBlocks());
            ptx.rowsWarp(t, LaunchConfig.of1d(blocks, PtxModules.BLOCK), mode, correction, rows, len, ptr(x), out);
            return;
        }
        LaunchConfig cfg = LaunchConfig.of1d(Math.min(rows, modules.maxRowBlocks()), blockFor(len));
        ptx.rows(t, cfg, mode, correction, rows, len, ptr(x), out);
    }

    private void cols(DType t, int mode, int correction, int outer, int len, int inner, Tensor x, DevicePointer out) {
        LaunchConfig cfg = new LaunchConfig((inner + 31) / 32, Math.min(outer, 65535), 1, 32, 8, 1, 0);
        ptx.cols(t, cfg, mode, correction, outer, len, inner, ptr(x), out);
    }

    private void general(DType t, int mode, int correction, long[] size, boolean[] red, Tensor x, DevicePointer out,
                         String op) {
        int runs = size.length;
        long[] stride = new long[runs];
        long acc = 1;
        for (int i = runs - 1; i >= 0; i--) {
            stride[i] = acc;
            acc *= size[i];
        }
        int nk = 0;
        int nr = 0;
        for (boolean r : red) {
            if (r) {
                nr++;
            } else {
                nk++;
            }
        }
        int[] keptDims = new int[nk];
        long[] keptStrides = new long[nk];
        int[] redDims = new int[nr];
        long[] redStrides = new long[nr];
        long outputs = 1;
        long len = 1;
        for (int i = 0, k = 0, r = 0; i < runs; i++) {
            if (red[i]) {
                redDims[r] = (int) size[i];
                redStrides[r++] = stride[i];
                len *= size[i];
            } else {
                keptDims[k] = (int) size[i];
                keptStrides[k++] = stride[i];
                outputs *= size[i];
            }
        }
        LaunchConfig cfg = LaunchConfig.of1d((int) Math.min(outputs, modules.maxRowBlocks()), blockFor(len));
        ptx.general(t, cfg, mode, correction, (int) outputs, (int) len, ptr(x), out,
                StridedMaps.encode(StridedMaps.coalesce(keptDims, keptStrides), op),
                StridedMaps.encode(StridedMaps.coalesce(redDims, redStrides), op));
    }

    /** A block of whole warps, no wider than the work (short rows waste fewer lanes), at most 256. */
    private static int blockFor(long len) {
        return (int) Math.min(PtxModules.BLOCK, Math.max(32, (len + 31) / 32 * 32));
    }
}
