package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.ShapeKernels;
import io.jnorm.tensor.Tensor;

/**
 * Reference data movement. Slices view a tensor as [outer, axis, inner] so one loop nest serves
 * every axis.
 */
final class CpuShapes implements ShapeKernels {

    @Override
    public void expand(Tensor x, Tensor out) {
        double[] v = read(x);
        int[] src = Broadcast.sourceIndex(x.shape(), out.shape());
        double[] o = new double[src.length];
        for (int i = 0; i < o.length; i++) {
            o[i] = v[src[i]];
        }
        write(out, o);
    }

    @Override
    public void permute(Tensor x, int[] perm, Tensor out) {
        double[] v = read(x);
        int r = x.rank();
        long[] xs = x.shape().strides();
        int[] od = out.shape().dims();
        // Walk out in row-major order, advancing the source offset by x's stride of each out axis.
        long[] step = new long[r];
        for (int i = 0; i < r; i++) {
            step[i] = xs[perm[i]];
        }
        double[] o = new double[v.length];
        int[] counter = new int[r];
        long off = 0;
        for (int k = 0; k < o.length; k++) {
            o[k] = v[(int) off];
            for (int a = r - 1; a >= 0; a--) {
                counter[a]++;
                off += step[a];
                if (counter[a] < od[a]) {
                    break;
                }
                off -= step[a] * od[a];
                counter[a] = 0;
            }
        }
        write(out, o);
    }

    @Override
    public void slice(Tensor x, int axis, int start, int step, Tensor out) {
        double[] v = read(x);
        double[] o = new double[(int) out.numel()];
        int outer = (int) x.shape().numel(0, axis);
        int inner = (int) x.shape().numel(axis + 1, x.rank());
        int n = x.dim(axis);
        int m = out.dim(axis);
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < m; i++) {
                System.arraycopy(v, (a * n + start + i * step) * inner, o, (a * m + i) * inner, inner);
            }
        }
        write(out, o);
    }

    @Override
    public void sliceScatter(Tensor src, int axis, int start, int step, Tensor dst) {
        double[] s = read(src);
        double[] d = read(dst);
        int outer = (int) dst.shape().numel(0, axis);
        int inner = (int) dst.shape().numel(axis + 1, dst.rank());
        int n = dst.dim(axis);
        int m = src.dim(axis);
        for (int a = 0; a < outer; a++) {
            for (int i = 0; i < m; i++) {
                System.arraycopy(s, (a * m + i) * inner, d, (a * n + start + i * step) * inner, inner);
            }
        }
        write(dst, d);
    }
}
