package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.NormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.tensor.Tensor;

/**
 * Reference kernels of the normalization family: textbook loops over the {@code [N, C, L]} view
 * in float64, two-pass variance (mean first, then squared deviations) so a large mean does not
 * cancel the variance away, one rounding on store.
 */
final class CpuNorm implements NormKernels {

    @Override
    public void moments(Tensor x, NormLayout layout, Tensor mean, Tensor var) {
        double[] xv = read(x);
        int stats = layout.statCount();
        double m = layout.elementsPerStat();
        double[] mu = new double[stats];
        forEach(layout, (i, s, c) -> mu[s] += xv[i]);
        for (int s = 0; s < stats; s++) {
            mu[s] /= m;
        }
        double[] v = new double[stats];
        forEach(layout, (i, s, c) -> {
            double d = xv[i] - mu[s];
            v[s] += d * d;
        });
        for (int s = 0; s < stats; s++) {
            v[s] /= m;
        }
        write(mean, mu);
        write(var, v);
    }

    @Override
    public void normalize(Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                          Tensor weight, Tensor bias, Tensor y) {
        double[] xv = read(x);
        double[] mu = read(mean);
        double[] rstd = rstd(read(var), eps);
        double[] w = weight == null ? null : read(weight);
        double[] b = bias == null ? null : read(bias);
        double[] out = new double[xv.length];
        forEach(layout, (i, s, c) -> {
            double v = (xv[i] - mu[s]) * rstd[s];
            if (w != null) {
                v *= w[c];
            }
            if (b != null) {
                v += b[c];
            }
            out[i] = v;
        });
        write(y, out);
    }

    @Override
    public void normalizeBackward(Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor var, double eps,
                                  Tensor weight, boolean statsFromInput, Tensor dx, Tensor dweight, Tensor dbias) {
        double[] g = read(dy);
        double[] xv = read(x);
        double[] mu = read(mean);
        double[] rstd = rstd(read(var), eps);
        double[] w = weight == null ? null : read(weight);
        double[] xhat = new double[xv.length];
        forEach(layout, (i, s, c) -> xhat[i] = (xv[i] - mu[s]) * rstd[s]);

        if (dweight != null || dbias != null) {
            double[] dw = new double[layout.c()];
            double[] db = new double[layout.c()];
            forEach(layout, (i, s, c) -> {
                dw[c] += g[i] * xhat[i];
                db[c] += g[i];
            });
            if (dweight != null) {
                write(dweight, dw);
            }
            if (dbias != null) {
                write(dbias, db);
            }
        }
        if (dx == null) {
            return;
        }
        // gs = dL/dx̂: the upstream gradient through the per-channel scale.
        double[] gs = new double[g.length];
        forEach(layout, (i, s, c) -> gs[i] = w == null ? g[i] : g[i] * w[c]);
        double[] out = new double[g.length];
        if (!statsFromInput) {
            forEach(layout, (i, s, c) -> out[i] = gs[i] * rstd[s]);
        } else {
            int stats = layout.statCount();
            double m = layout.elementsPerStat();
            double[] sumG = new double[stats];
            double[] sumGX = new double[stats];
            forEach(layout, (i, s, c) -> {
                sumG[s] += gs[i];
                sumGX[s] += gs[i] * xhat[i];
            });
            forEach(layout, (i, s, c) ->
                    out[i] = rstd[s] * (gs[i] - sumG[s] / m - xhat[i] * (sumGX[s] / m)));
        }
        write(dx, out);
    }

    @Override
    public void normalizeWithBatchStats(Tensor x, NormLayout layout, double eps, Tensor weight, Tensor bias,
                                        Tensor y, Tensor mean, Tensor var, Tensor runningMean, Tensor runningVar,
                                        int instances, long count, double factor, Tensor counter) {
        moments(x, layout, mean, var);
        normalize(x, layout, mean, var, eps, weight, bias, y);
        if (runningMean != null) {
            updateRunningStats(mean, var, instances, count, factor, runningMean, runningVar);
        }
        if (counter != null) {
            write(counter, new double[] {read(counter)[0] + 1});
        }
    }

    @Override
    public void updateRunningStats(Tensor batchMean, Tensor batchVar, int instances, long count, double factor,
                                   Tensor runningMean, Tensor runningVar) {
        double[] bm = read(batchMean);
        double[] bv = read(batchVar);
        double[] rm = read(runningMean);
        double[] rv = read(runningVar);
        int c = rm.length;
        double bessel = (double) count / (count - 1);
        for (int ch = 0; ch < c; ch++) {
            double m = 0;
            double v = 0;
            for (int i = 0; i < instances; i++) {
                m += bm[i * c + ch];
                v += bv[i * c + ch] * bessel;
            }
            m /= instances;
            v /= instances;
            rm[ch] = (1 - factor) * rm[ch] + factor * m;
            rv[ch] = (1 - factor) * rv[ch] + factor * v;
        }
        write(runningMean, rm);
        write(runningVar, rv);
    }

    /** 1/sqrt(var + eps) per statistic, in float64. */
    private static double[] rstd(double[] var, double eps) {
        double[] r = new double[var.length];
        for (int s = 0; s < var.length; s++) {
            r[s] = 1.0 / Math.sqrt(var[s] + eps);
        }
        return r;
    }

    /** Visits every element in memory order with its statistic and channel. */
    private static void forEach(NormLayout layout, ElementVisitor v) {
        int n = layout.n();
        int c = layout.c();
        int l = layout.l();
        int i = 0;
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int s = layout.statIndex(ni, ci);
                for (int li = 0; li < l; li++) {
                    v.visit(i++, s, ci);
                }
            }
        }
    }

    @FunctionalInterface
    private interface ElementVisitor {
        void visit(int index, int stat, int channel);
    }
}
