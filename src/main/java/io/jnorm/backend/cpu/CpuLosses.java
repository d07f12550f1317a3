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
    public void crossEntropy(Tensor logits, Tensor targets, Tensor logProbs, Tensor loss) {
        logSoftmax(logits, 1, logProbs);
        double[] lp = read(logProbs);
        double[] t = read(targets);
        int n = logits.dim(0);
        int k = logits.dim(1);
        double s = 0;
        for (int i = 0; i < n; i++) {
            s -= lp[i * k + (int) t[i]];
        }
        write(loss, new double[] {s / n});
    }

    @Override
    public void crossEntropyBackward(Tensor logProbs, Tensor targets, Tensor dLoss, Tensor dLogits) {
        double[] lp = read(logProbs);
        double[] t = read(targets);
        int n = logProbs.dim(0);
        int k = logProbs.dim(1);
        double scale = read(dLoss)[0] / n;
        double[] o = new double[lp.length];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                o[i * k + j] = (Math.exp(lp[i * k + j]) - (j == (int) t[i] ? 1.0 : 0.0)) * scale;
            }
        }
        write(dLogits, o);
    }
}
