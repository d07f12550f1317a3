package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.Pool2dSpec;
import io.jnorm.backend.PoolKernels;
import io.jnorm.tensor.Tensor;

/** Reference pooling: one loop over output pixels and their window, per (n, c) plane. */
final class CpuPools implements PoolKernels {

    @Override
    public void maxPool2dForward(Tensor x, Pool2dSpec s, Tensor y) {
        double[] xv = read(x);
        double[] out = new double[(int) y.numel()];
        int h = x.dim(2);
        int w = x.dim(3);
        int oh = y.dim(2);
        int ow = y.dim(3);
        int planes = x.dim(0) * x.dim(1);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    out[(p * oh + i) * ow + j] = xv[argmax(xv, p * h * w, h, w, i, j, s)];
                }
            }
        }
        write(y, out);
    }

    @Override
    public void maxPool2dBackward(Tensor x, Tensor dy, Pool2dSpec s, Tensor dx) {
        double[] xv = read(x);
        double[] g = read(dy);
        double[] out = new double[xv.length];
        int h = x.dim(2);
        int w = x.dim(3);
        int oh = dy.dim(2);
        int ow = dy.dim(3);
        int planes = x.dim(0) * x.dim(1);
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    out[argmax(xv, p * h * w, h, w, i, j, s)] += g[(p * oh + i) * ow + j];
                }
            }
        }
        write(dx, out);
    }

    /** Flat index in x of the winner of window (i, j) of the plane starting at {@code base}. */
    private static int argmax(double[] xv, int base, int h, int w, int i, int j, Pool2dSpec s) {
        int best = -1;
        double bestValue = Double.NEGATIVE_INFINITY;
        for (int u = 0; u < s.kernelH(); u++) {
            int r = i * s.strideH() - s.padH() + u;
            if (r < 0 || r >= h) {
                continue;
            }
            for (int v = 0; v < s.kernelW(); v++) {
                int c = j * s.strideW() - s.padW() + v;
                if (c < 0 || c >= w) {
                    continue;
                }
                int idx = base + r * w + c;
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
        int h = x.dim(2);
        int w = x.dim(3);
        int oh = y.dim(2);
        int ow = y.dim(3);
        int planes = x.dim(0) * x.dim(1);
        double area = (double) s.kernelH() * s.kernelW();
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double sum = 0;
                    for (int u = 0; u < s.kernelH(); u++) {
                        int r = i * s.strideH() - s.padH() + u;
                        for (int v = 0; v < s.kernelW(); v++) {
                            int c = j * s.strideW() - s.padW() + v;
                            if (r >= 0 && r < h && c >= 0 && c < w) {
                                sum += xv[(p * h + r) * w + c];
                            }
                        }
                    }
                    out[(p * oh + i) * ow + j] = sum / area;
                }
            }
        }
        write(y, out);
    }

    @Override
    public void avgPool2dBackward(Tensor dy, Pool2dSpec s, Tensor dx) {
        double[] g = read(dy);
        double[] out = new double[(int) dx.numel()];
        int h = dx.dim(2);
        int w = dx.dim(3);
        int oh = dy.dim(2);
        int ow = dy.dim(3);
        int planes = dx.dim(0) * dx.dim(1);
        double area = (double) s.kernelH() * s.kernelW();
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    double share = g[(p * oh + i) * ow + j] / area;
                    for (int u = 0; u < s.kernelH(); u++) {
                        int r = i * s.strideH() - s.padH() + u;
                        for (int v = 0; v < s.kernelW(); v++) {
                            int c = j * s.strideW() - s.padW() + v;
                            if (r >= 0 && r < h && c >= 0 && c < w) {
                                out[(p * h + r) * w + c] += share;
                            }
                        }
                    }
                }
            }
        }
        write(dx, out);
    }
}
