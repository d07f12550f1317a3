package io.jnorm.backend.cuda;

import io.jnorm.backend.NormLayout;

/**
 * Which elements share one statistic, in the form the norm kernels take it (the C struct
 * {@code NormGeom} in {@code src/main/cuda/common/norm_stats.cuh}): the {@code m} elements of
 * statistic s are runs of {@code runLen} contiguous elements,
 * <pre>
 *   element e of s  at  s·statStride + (e / runLen)·runStride + e % runLen
 *   its channel        (s % groups)·cg + (e % runLen) / l
 * </pre>
 * PER_CHANNEL (BatchNorm) is N runs of L per channel; PER_GROUP (GroupNorm, InstanceNorm,
 * LayerNorm) is one run of (C/G)·L per (n, g). One formula lets every kernel exist once.
 *
 * @param stats      number of statistics
 * @param groups     statistics whose index differs by a multiple of this share channels
 *                   (C for PER_CHANNEL, G for PER_GROUP)
 * @param cg         channels per statistic (1, or C/G)
 * @param l          elements per channel and run (L)
 * @param runLen     contiguous elements per run
 * @param runStride  distance between runs (unused when there is one run)
 * @param statStride distance between the first elements of consecutive statistics
 * @param m          elements per statistic
 * @param channels   C
 */
public record CudaNormGeometry(int stats, int groups, int cg, int l, int runLen, int runStride, int statStride,
                               int m, int channels) {

    /** The geometry of a layout. */
    public static CudaNormGeometry of(NormLayout layout) {
        int c = layout.c();
        int l = layout.l();
        if (layout.reduction() == NormLayout.Reduction.PER_CHANNEL) {
            return new CudaNormGeometry(c, c, 1, l, l, c * l, l, layout.n() * l, c);
        }
        int cg = c / layout.groups();
        int seg = cg * l;
        return new CudaNormGeometry(layout.n() * layout.groups(), layout.groups(), cg, l, seg, seg, seg, seg, c);
    }

    /** Statistics that share the same channels (N for PER_GROUP, 1 for PER_CHANNEL). */
    public int statsPerGroup() {
        return stats / groups;
    }

    /**
     * Whether 16-byte vectors of {@code width} elements never straddle a run and start
     * aligned (given a 16-byte aligned base), so the vector path is legal.
     */
    public boolean vectorizable(int width) {
        return runLen % width == 0 && runStride % width == 0 && statStride % width == 0;
    }
}
