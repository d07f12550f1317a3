package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.WeightStandardizationKernels;
import io.jnorm.tensor.Tensor;

/**
 * Reference weight standardization: per output channel, a two-pass mean and variance in
 * float64 (two passes, not Σx² − (Σx)², because trained weights have small variance next to
 * their mean and the one-pass form cancels catastrophically there).
 */
final class CpuWeightStandardization implements WeightStandardizationKernels {

    @Override
    public void forward(Tensor w, double epsIn, double epsOut, boolean unbiased, Tensor wHat) {
        double[] v = read(w);
        int rows = w.dim(0);
        int fanIn = v.length / rows;
        double[] out = new double[v.length];
        for (int o = 0; o < rows; o++) {
            RowStats s = RowStats.of(v, o * fanIn, fanIn, epsIn, unbiased);
            double denom = s.root + epsOut;
            for (int j = 0; j < fanIn; j++) {
                out[o * fanIn + j] = (v[o * fanIn + j] - s.mean) / denom;
            }
        }
        write(wHat, out);
    }

    @Override
    public void backward(Tensor w, Tensor gradWHat, double epsIn, double epsOut, boolean unbiased, Tensor gradW) {
        double[] v = read(w);
        double[] g = read(gradWHat);
        int rows = w.dim(0);
        int fanIn = v.length / rows;
        double divisor = unbiased ? fanIn - 1 : fanIn;
        double[] out = new double[v.length];
        double[] hat = new double[fanIn];
        for (int o = 0; o < rows; o++) {
            int base = o * fanIn;
            RowStats s = RowStats.of(v, base, fanIn, epsIn, unbiased);
            double denom = s.root + epsOut;
            double sumG = 0;
            double sumGHat = 0;
            for (int j = 0; j < fanIn; j++) {
                hat[j] = (v[base + j] - s.mean) / denom;
                sumG += g[base + j];
                sumGHat += g[base + j] * hat[j];
            }
            double meanG = sumG / fanIn;
            // With r = 0 every Ŵ is 0 and the variance term is 0/0; its limit along any
            // direction that keeps the row constant is 0 (torch 1.13's std backward agrees).
            double proj = s.root == 0 ? 0.0 : sumGHat / (divisor * s.root);
            for (int j = 0; j < fanIn; j++) {
                out[base + j] = (g[base + j] - meanG) / denom - hat[j] * proj;
            }
        }
        write(gradW, out);
    }

    /** Mean and r = sqrt(var_M + epsIn) of one row. */
    private record RowStats(double mean, double root) {
        static RowStats of(double[] v, int base, int n, double epsIn, boolean unbiased) {
            double sum = 0;
            for (int j = 0; j < n; j++) {
                sum += v[base + j];
            }
            double mean = sum / n;
            double ss = 0;
            for (int j = 0; j < n; j++) {
                double d = v[base + j] - mean;
                ss += d * d;
            }
            double var = ss / (unbiased ? n - 1 : n);
            return new RowStats(mean, Math.sqrt(var + epsIn));
        }
    }
}
