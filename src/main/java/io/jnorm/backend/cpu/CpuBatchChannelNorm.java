package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.tensor.Tensor;

/** Reference Batch-Channel Norm kernels, in float64. */
final class CpuBatchChannelNorm implements BatchChannelNormKernels {

    @Override
    public void updateEstimates(Tensor batchMean, Tensor batchVar, double rate, Tensor estMean, Tensor estVar) {
        double[] m = read(batchMean);
        double[] v = read(batchVar);
        double[] mu = read(estMean);
        double[] var = read(estVar);
        for (int c = 0; c < m.length; c++) {
            // Σ(x − μ̂)²/M = var + (m − μ̂)²: both terms are ≥ 0, so nothing cancels.
            double shift = m[c] - mu[c];
            double s = v[c] + shift * shift;
            mu[c] = (1 - rate) * mu[c] + rate * m[c];
            var[c] = (1 - rate) * var[c] + rate * s;
        }
        write(estMean, mu);
        write(estVar, var);
    }

    @Override
    public void expandGroups(Tensor perGroup, Tensor perChannel) {
        double[] g = read(perGroup);
        int c = (int) perChannel.numel();
        int size = c / g.length;
        double[] out = new double[c];
        for (int ch = 0; ch < c; ch++) {
            out[ch] = g[ch / size];
        }
        write(perChannel, out);
    }

    @Override
    public void sumGroups(Tensor perChannel, Tensor perGroup) {
        double[] v = read(perChannel);
        int groups = (int) perGroup.numel();
        int size = v.length / groups;
        double[] out = new double[groups];
        for (int ch = 0; ch < v.length; ch++) {
            out[ch / size] += v[ch];
        }
        write(perGroup, out);
    }
}
