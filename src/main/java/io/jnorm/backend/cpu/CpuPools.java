package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.Pool2dSpec;
import io.jnorm.backend.PoolKernels;
import io.jnorm.tensor.Tensor;

/** Reference pooling: one loop over output pixels and their window, per (n, c) plane. */
final class CpuPools implements PoolKernels {

    /** Sizes of a pooling: (n, c) planes of h × w input pixels and oh × ow output pixels. */
    private record Dims(int planes, int h, int w, int oh, int ow) {
        static Dims of(Tensor in, Tensor out) {
            return new Dims(in.dim(0) * in.dim(1), in.dim(2), in.dim(3), out.dim(2), out.dim(3));
        }
    }

    /** One output pixel's window: its flat index, the flat index where its plane starts in x, its row and column. */
    private interface Window {
        void visit(int yi, int planeBase, int i, int j);
    }

    /** One (output pixel, input pixel of its window) pair; padding is skipped. */
    private interface Tap {
        void visit(int yi, int xi);
    }

    /** Every output pixel in row-major order. */
    private static void forEachWindow(Dims d, Window window) {
        for (int p = 0; p < d.planes; p++) {
            for (int i = 0; i < d.oh; i++) {
                for (int j = 0; j < d.ow; j++) {
                    window.visit((p * d.oh + i) * d.ow + j, p * d.h * d.w, i, j);
                }
            }
        }
    }

    /** Every output pixel in row-major order, and the real input pixels of its window row by row. */
    private static void forEachTap(Dims d, Pool2dSpec s, Tap tap) {
        forEachWindow(d, (yi, base, i, j) -> {
            for (int u = 0; u < s.kernelH(); u++) {
                int r = i * s.strideH() - s.padH() + u;
                for (int v = 0; v < s.kernelW(); v++) {
                    int c = j * s.strideW() - s.padW() + v;
                    if (r >= 0 && r < d.h && c >= 0 && c < d.w) {
                        tap.visit(yi, base + r * d.w + c);
                    }
                }
            }
        });
    }

    @Override
    public void maxPool2dForward(Tensor x, Pool2dSpec s, Tensor y) {
        double[] xv = read(x);
        double[] out = new double[(int) y.numel()];
        Dims d = Dims.of(x, y);
        forEachWindow(d, (yi, base, i, j) -> out[yi] = xv[argmax(xv, base, d, i, j, s)]);
        write(y, out);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, Pool2dSpec s, Tensor dx) {
        double[] xv = read(x);
        double[] g = read(dy);
        double[] out = new double[xv.length];
        Dims d = Dims.of(x, dy);
        forEachWindow(d, (yi, base, i, j) -> out[argmax(xv, base, d, i, j, s)] += g[yi]);
        write(dx, out);
    }

    /** Flat index in x of the winner of window (i, j) of the plane starting at {@code base}. */
    private static int argmax(double[] xv, int base, Dims d, int i, int j, Pool2dSpec s) {
        int best = -1;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int u = 0; u < s.kernelH(); u++) {
            int r = i * s.strideH() - s.padH() + u;
            if (r < 0 || r >= d.h) {
                continue;
            }
            for (int v = 0; v < s.kernelW(); v++) {
                int c = j * s.strideW() - s.padW() + v;
                if (c < 0 || c >= d.w) {
                    continue;
                }
                int idx = base + r * d.w + c;
                double val = xv[idx];
                // Strict '>' keeps the first of equal maxima; a NaN beats any number (as PyTorch propagates it).
                if (best < 0 || val > bestValue || (Double.isNaN(val) && !Double.isNaN(bestValue))) {
                    best = idx;
                    bestValue = val;
                }
            }
        }
        return best;
    }

    @Override
    public void avgPool2dForward(Tensor x, Pool2dSpec s, Tensor y) {
        double[] xv = read(x);
        double[] out = new double[(int) y.numel()];
        // Padding counts in the divisor (PyTorch's count_include_pad=True).
        double area = (double) s.kernelH() * s.kernelW();
        forEachTap(Dims.of(x, y), s, (yi, xi) -> out[yi] += xv[xi]);
        for (int k = 0; k < out.length; k++) {
            out[k] /= area;
        }
        write(y, out);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, Pool2dSpec s, Tensor dx) {
        double[] g = read(dy);
        double[] out = new double[(int) dx.numel()];
        double area = (double) s.kernelH() * s.kernelW();
        forEachTap(Dims.of(dx, dy), s, (yi, xi) -> out[xi] += g[yi] / area);
        write(dx, out);
    }
}
