package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.LossKernels;
import io.jnorm.tensor.Tensor;

/**
 * Reference softmax-family kernels. A tensor is viewed as [outer, K, inner] around the softmax
 * axis, so one loop nest serves every axis.
 */
final class CpuLosses implements LossKernels {

    @Override
    public void logSoftmax(Tensor x, int axis, Tensor out) {
        double[] v = read(x);
        int k = x.dim(axis);
        int inner = (int) x.shape().numel(axis + 1, x.rank());
        int outer = (int) x.shape().numel(0, axis);
        double[] o = new double[v.length];
        for (int a = 0; a < outer; a++) {
            for (int b = 0; b < inner; b++) {
                int base = a * k * inner + b;
                double max = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < k; i++) {
                    max = Math.max(max, v[base + i * inner]);
                }
                // Subtracting the maximum keeps exp() from overflowing; an all -inf row stays -inf-safe.
                double shift = Double.isInfinite(max) ? 0.0 : max;
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += Math.exp(v[base + i * inner] - shift);
                }
                double lse = shift + Math.log(s);
                for (int i = 0; i < k; i++) {
                    o[base + i * inner] = v[base + i * inner] - lse;
                }
            }
        }
        write(out, o);
    }

    @Override
    public void logSoftmaxBackward(Tensor y, Tensor dy, int axis, Tensor dx) {
        double[] yv = read(y);
        double[] g = read(dy);
        int k = y.dim(axis);
        int inner = (int) y.shape().numel(axis + 1, y.rank());
        int outer = (int) y.shape().numel(0, axis);
        double[] o = new double[yv.length];
        for (int a = 0; a < outer; a++) {
            for (int b = 0; b < inner; b++) {
                int base = a * k * inner + b;
                double s = 0;
                for (int i = 0; i < k; i++) {
                    s += g[base + i * inner];
                }
                for (int i = 0; i < k; i++) {
                    int p = base + i * inner;
                    o[p] = g[p] - Math.exp(yv[p]) * s;
                }
            }
        }
        write(dx, o);
    }

    @Override
    public void crossEntropy(Tensor logits, Tensor targets, Tensor lse, Tensor loss) {
        double[] x = read(logits);
        double[] t = read(targets);
        int n = logits.dim(0);
        int k = logits.dim(1);
        double[] l = new double[n];
        double s = 0;
        for (int i = 0; i < n; i++) {
            l[i] = rowLogSumExp(x, i * k, k);
            s += l[i] - x[i * k + (int) t[i]];
        }
        write(lse, l);
        write(loss, new double[] {s / n});
    }

    @Override
    public void crossEntropyBackward(Tensor logits, Tensor targets, Tensor lse, Tensor dLoss, Tensor dLogits) {
        double[] x = read(logits);
        double[] t = read(targets);
        double[] l = read(lse);
        int n = logits.dim(0);
        int k = logits.dim(1);
        double scale = read(dLoss)[0] / n;
        double[] o = new double[x.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                o[i * k + j] = (Math.exp(x[i * k + j] - l[i]) - (j == (int) t[i] ? 1.0 : 0.0)) * scale;
            }
        }
        write(dLogits, o);
    }

    /** logsumexp of x[base, base + k), shifted by the row maximum as {@link #logSoftmax} is. */
    private static double rowLogSumExp(double[] x, int base, int k) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < k; j++) {
            double v = x[base + j];
            if (Double.isNaN(v)) {
                return Double.NaN;
            }
            m = Math.max(m, v);
        }
        double shift = Double.isInfinite(m) ? 0 : m;
        double s = 0;
        for (int j = 0; j < k; j++) {
            s += Math.exp(x[base + j] - shift);
        }
        return shift + Math.log(s);
    }
}
