package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.function.IntBinaryOperator;

/**
 * Reference kernels of Switchable Normalization: textbook loops in float64, rounded once on
 * store. Index conventions: x[n][c][l] at (n·C + c)·L + l, per-instance values at n·C + c.
 */
final class CpuSwitchableNorm implements SwitchableNormKernels {

    @Override
    public void statistics(Tensor x, Stats out, Tensor runningMean, Tensor runningVar, double keep) {
        int n = x.dim(0);
        int c = x.dim(1);
        int l = x.dim(2) * x.dim(3);
        double[] xv = read(x);
        double[] meanIn = new double[n * c];
        double[] varIn = new double[n * c];
        for (int i = 0; i < n * c; i++) {
            double s = 0;
            for (int p = 0; p < l; p++) {
                s += xv[i * l + p];
            }
            double m = s / l;
            // Two passes: the unbiased variance of the official code, without cancellation.
            double q = 0;
            for (int p = 0; p < l; p++) {
                double d = xv[i * l + p] - m;
                q += d * d;
            }
            meanIn[i] = m;
            varIn[i] = q / (l - 1);
        }
        double[] meanLn = new double[n];
        double[] varLn = new double[n];
        // LN pools a sample's channels, BN a channel's samples.
        pool(meanIn, varIn, n, c, (sample, ch) -> sample * c + ch, meanLn, varLn);
        write(out.meanIn(), meanIn);
        write(out.varIn(), varIn);
        write(out.meanLn(), meanLn);
        write(out.varLn(), varLn);
        if (out.meanBn() != null) {
            double[] meanBn = new double[c];
            double[] varBn = new double[c];
            pool(meanIn, varIn, c, n, (ch, sample) -> sample * c + ch, meanBn, varBn);
            write(out.meanBn(), meanBn);
            write(out.varBn(), varBn);
            if (runningMean != null) {
                blend(runningMean, out.meanBn(), keep);
                blend(runningVar, out.varBn(), keep);
            }
        }
    }

    /**
     * running = round(round(running·k) + round(batch·(1 − k))) with k and 1 − k rounded to the
     * dtype first: the rounding steps of the layer's former mul / mul / add ops, so the CPU
     * results did not move when the update became part of this kernel.
     */
    private static void blend(Tensor running, Tensor batch, double keep) {
        boolean f32 = running.dtype() == DType.F32;
        double k = round(keep, f32);
        double ok = round(1 - keep, f32);
        double[] r = read(running);
        double[] b = read(batch);
        for (int i = 0; i < r.length; i++) {
            r[i] = round(round(r[i] * k, f32) + round(b[i] * ok, f32), f32);
        }
        write(running, r);
    }

    private static double round(double v, boolean f32) {
        return f32 ? (float) v : v;
    }

    /**
     * The moments of a union of instances from theirs: for each of {@code sets} sets of
     * {@code members} instances (instance {@code index(set, member)}), mean = the mean of the
     * means, var = the mean of (var + mean²) minus mean², as the official code derives LN and BN
     * statistics from IN statistics.
     */
    private static void pool(double[] meanIn, double[] varIn, int sets, int members, IntBinaryOperator index,
                             double[] mean, double[] var) {
        for (int g = 0; g < sets; g++) {
            double m = 0;
            double t = 0;
            for (int k = 0; k < members; k++) {
                int i = index.applyAsInt(g, k);
                m += meanIn[i];
                t += varIn[i] + meanIn[i] * meanIn[i];
            }
            m /= members;
            mean[g] = m;
            var[g] = t / members - m * m;
        }
    }

    /** Host copies of the statistics, so the loops below read plain arrays. */
    private record HostStats(double[] meanIn, double[] varIn, double[] meanLn, double[] varLn,
                             double[] meanBn, double[] varBn) {
        static HostStats of(Stats s) {
            return new HostStats(read(s.meanIn()), read(s.varIn()), read(s.meanLn()), read(s.varLn()),
                    s.meanBn() == null ? null : read(s.meanBn()), s.varBn() == null ? null : read(s.varBn()));
        }

        /** The mixed mean of instance (n, c). */
        double mean(double[] w, int n, int c, int channels) {
            int i = n * channels + c;
            double m = w[0] * meanIn[i] + w[1] * meanLn[n];
            return meanBn == null ? m : m + w[2] * meanBn[c];
        }

        double var(double[] v, int n, int c, int channels) {
            int i = n * channels + c;
            double m = v[0] * varIn[i] + v[1] * varLn[n];
            return varBn == null ? m : m + v[2] * varBn[c];
        }

        /** Term k of the mean statistics at instance (n, c): IN, LN, BN. */
        double meanTerm(int k, int n, int c, int channels) {
            return k == 0 ? meanIn[n * channels + c] : k == 1 ? meanLn[n] : meanBn[c];
        }

        double varTerm(int k, int n, int c, int channels) {
            return k == 0 ? varIn[n * channels + c] : k == 1 ? varLn[n] : varBn[c];
        }
    }

    /** Softmax with the maximum subtracted, so large logits do not overflow. */
    static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double[] w = new double[logits.length];
        double sum = 0;
        for (int k = 0; k < w.length; k++) {
            w[k] = Math.exp(logits[k] - max);
            sum += w[k];
        }
        for (int k = 0; k < w.length; k++) {
            w[k] /= sum;
        }
        return w;
    }

    @Override
    public void forward(Tensor x, Stats stats, Tensor meanLogits, Tensor varLogits, Tensor gamma, Tensor beta,
                        double eps, Tensor y, Tensor mean, Tensor rstd) {
        int n = x.dim(0);
        int c = x.dim(1);
        int l = x.dim(2) * x.dim(3);
        double[] xv = read(x);
        double[] g = read(gamma);
        double[] bt = read(beta);
        double[] w = softmax(read(meanLogits));
        double[] v = softmax(read(varLogits));
        HostStats h = HostStats.of(stats);
        double[] out = new double[xv.length];
        double[] mOut = new double[n * c];
        double[] rOut = new double[n * c];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int i = s * c + ch;
                double m = h.mean(w, s, ch, c);
                double r = 1.0 / Math.sqrt(h.var(v, s, ch, c) + eps);
                mOut[i] = m;
                rOut[i] = r;
                for (int p = 0; p < l; p++) {
                    out[i * l + p] = g[ch] * (xv[i * l + p] - m) * r + bt[ch];
                }
            }
        }
        write(y, out);
        write(mean, mOut);
        write(rstd, rOut);
    }

    @Override
    public void backwardReduce(Tensor x, Tensor dy, Tensor mean, Tensor rstd, Tensor gamma,
                               Tensor a, Tensor b, Tensor dGamma, Tensor dBeta) {
        int n = x.dim(0);
        int c = x.dim(1);
        int l = x.dim(2) * x.dim(3);
        double[] xv = read(x);
        double[] gy = read(dy);
        double[] m = read(mean);
        double[] r = read(rstd);
        double[] gm = read(gamma);
        double[] av = new double[n * c];
        double[] bv = new double[n * c];
        double[] dg = new double[c];
        double[] db = new double[c];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int i = s * c + ch;
                double sumDy = 0;
                double sumDyXhat = 0;
                for (int p = 0; p < l; p++) {
                    double xhat = (xv[i * l + p] - m[i]) * r[i];
                    sumDy += gy[i * l + p];
                    sumDyXhat += gy[i * l + p] * xhat;
                }
                av[i] = -r[i] * gm[ch] * sumDy;
                bv[i] = -0.5 * r[i] * r[i] * gm[ch] * sumDyXhat;
                dg[ch] += sumDyXhat;
                db[ch] += sumDy;
            }
        }
        write(a, av);
        write(b, bv);
        if (dGamma != null) {
            write(dGamma, dg);
        }
        if (dBeta != null) {
            write(dBeta, db);
        }
    }

    @Override
    public void backwardLogits(Tensor a, Tensor b, Stats stats, Tensor meanLogits, Tensor varLogits,
                               Tensor dMeanLogits, Tensor dVarLogits) {
        int n = a.dim(0);
        int c = a.dim(1);
        int terms = stats.terms();
        double[] av = read(a);
        double[] bv = read(b);
        HostStats h = HostStats.of(stats);
        double[] u = new double[terms];
        double[] uv = new double[terms];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int i = s * c + ch;
                for (int k = 0; k < terms; k++) {
                    u[k] += av[i] * h.meanTerm(k, s, ch, c);
                    uv[k] += bv[i] * h.varTerm(k, s, ch, c);
                }
            }
        }
        if (dMeanLogits != null) {
            write(dMeanLogits, softmaxBackward(softmax(read(meanLogits)), u));
        }
        if (dVarLogits != null) {
            write(dVarLogits, softmaxBackward(softmax(read(varLogits)), uv));
        }
    }

    /** dλ_j = w_j·(u_j - Σ_k w_k·u_k), the softmax Jacobian applied to u. */
    private static double[] softmaxBackward(double[] w, double[] u) {
        double dot = 0;
        for (int k = 0; k < w.length; k++) {
            dot += w[k] * u[k];
        }
        double[] d = new double[w.length];
        for (int j = 0; j < w.length; j++) {
            d[j] = w[j] * (u[j] - dot);
        }
        return d;
    }

    @Override
    public void backwardInput(Tensor x, Tensor dy, Tensor a, Tensor b, Stats stats, Tensor rstd, Tensor gamma,
                              Tensor meanLogits, Tensor varLogits, boolean bnFromBatch, Tensor dx) {
        int n = x.dim(0);
        int c = x.dim(1);
        int l = x.dim(2) * x.dim(3);
        double[] xv = read(x);
        double[] gy = read(dy);
        double[] av = read(a);
        double[] bv = read(b);
        double[] r = read(rstd);
        double[] gm = read(gamma);
        double[] w = softmax(read(meanLogits));
        double[] v = softmax(read(varLogits));
        HostStats h = HostStats.of(stats);
        boolean bn = bnFromBatch && h.meanBn() != null;
        // Sums of the mean and variance gradients over channels (LN) and over samples (BN).
        double[] aOverC = new double[n];
        double[] bOverC = new double[n];
        double[] aOverN = new double[c];
        double[] bOverN = new double[c];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int i = s * c + ch;
                aOverC[s] += av[i];
                bOverC[s] += bv[i];
                aOverN[ch] += av[i];
                bOverN[ch] += bv[i];
            }
        }
        double[] out = new double[xv.length];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int i = s * c + ch;
                double mIn = h.meanIn()[i];
                double gMean = w[0] * av[i] + w[1] / c * aOverC[s]
                        + 2.0 / c * (mIn - h.meanLn()[s]) * v[1] * bOverC[s];
                double gVar = v[0] * bv[i] + v[1] / c * bOverC[s];
                if (bn) {
                    gMean += w[2] / n * aOverN[ch] + 2.0 / n * (mIn - h.meanBn()[ch]) * v[2] * bOverN[ch];
                    gVar += v[2] / n * bOverN[ch];
                }
                for (int p = 0; p < l; p++) {
                    int e = i * l + p;
                    out[e] = gm[ch] * gy[e] * r[i] + gMean / l + gVar * 2.0 * (xv[e] - mIn) / (l - 1);
                }
            }
        }
        write(dx, out);
    }
}
