package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.ShapeKernels;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.Tensor;

/**
 * Shape kernels on the GPU (shape.cu): expand, permute and slice as one strided gather,
 * sliceScatter as the matching scatter, and a tiled transpose for permutes that swap the two
 * innermost coalesced blocks of axes (NCHW to NHWC, matrix transposes).
 */
final class CudaShapes implements ShapeKernels {
    private final PtxModules modules;
    private final ShapePtx ptx;

    CudaShapes(PtxModules modules) {
        this.modules = modules;
        this.ptx = new ShapePtx(modules);
    }

    /**
     * The index-math kernels use 32-bit offsets (cheap div/mod).
     *
     * @throws IllegalArgumentException naming the op and tensor when it is too large for them
     */
    static int checkedIndexRange(long n, String op, Tensor t) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": tensor " + t.shape() + " has " + n
                    + " elements; the cuda backend's strided kernels index with 32 bits (at most 2^31 - 1 elements)");
        }
        return (int) n;
    }

    @Override
    public void expand(Tensor x, Tensor out) {
        int[] od = out.shape().dims();
        gather(x, out, 0, StridedMaps.coalesce(od, StridedMaps.broadcastStrides(x.shape().dims(), od)), "expand");
    }

    @Override
    public void permute(Tensor x, int[] perm, Tensor out) {
        long[] xs = x.shape().strides();
        long[] s = new long[perm.length];
        for (int i = 0; i < perm.length; i++) {
            s[i] = xs[perm[i]];
        }
        StridedMaps.Layout l = StridedMaps.coalesce(out.shape().dims(), s);
        int[] d = l.dims();
        long[] st = l.strides()[0];
        // Innermost first: out[.., i1, i0] reads x at i0 * d1 + i1 (x is [d0, d1], out [d1, d0]).
        boolean tilesFit = d.length >= 2 && (d[0] + 31) / 32 <= 65535;
        if (tilesFit && d.length == 2 && st[1] == 1 && st[0] == d[1]) {
            transpose(x, out, 1, d[0], d[1]);
        } else if (tilesFit && d.length == 3 && st[1] == 1 && st[0] == d[1] && st[2] == (long) d[0] * d[1]) {
            transpose(x, out, d[2], d[0], d[1]);
        } else {
            gather(x, out, 0, l, "permute");
        }
    }

    @Override
    public void slice(Tensor x, int axis, int start, int step, Tensor out) {
        long[] s = x.shape().strides();
        long base = start * s[axis];
        s[axis] *= step;
        gather(x, out, base, StridedMaps.coalesce(out.shape().dims(), s), "slice");
    }

    @Override
    public void sliceScatter(Tensor src, int axis, int start, int step, Tensor dst) {
        long[] s = dst.shape().strides();
        long base = start * s[axis];
        s[axis] *= step;
        checkedIndexRange(dst.numel(), "sliceScatter", dst);
        StridedMaps.Layout l = StridedMaps.coalesce(src.shape().dims(), s);
        ptx.scatter(src.dtype(), modules.grid1d(src.numel()), (int) src.numel(), (int) base, ptr(src), ptr(dst),
                StridedMaps.encode(l, "sliceScatter"));
    }

    private void gather(Tensor x, Tensor out, long base, StridedMaps.Layout l, String op) {
        checkedIndexRange(Math.max(x.numel(), out.numel()), op, x.numel() > out.numel() ? x : out);
        int n = (int) out.numel();
        ptx.gather(out.dtype(), modules.grid1d(n), n, (int) base, ptr(x), ptr(out), StridedMaps.encode(l, op));
    }

    private void transpose(Tensor x, Tensor out, int batch, int rows, int cols) {
        LaunchConfig cfg = new LaunchConfig((cols + 31) / 32, (rows + 31) / 32, Math.min(batch, 65535), 32, 8, 1, 0);
        ptx.transpose(x.dtype(), cfg, batch, rows, cols, ptr(x), ptr(out));
    }
}
