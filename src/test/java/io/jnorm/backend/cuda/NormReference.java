package io.jnorm.backend.cuda;

/**
 * The norm formulas of spec-brn-ubn-baselines.md §0-1 written out directly for the tests, in
 * float64 over an explicit (n, c, l) loop, independent of the kernels and of CpuNorm.
 *
 * <p>A layout is given as (N, C, L, G, perChannel); statistic of (n, c) is c for per-channel, else
 * n·G + c/(C/G).
 */
final class NormReference {
    final int n;
    final int c;
    final int l;
    final int g;
    final boolean perChannel;

    NormReference(int n, int c, int l, int g, boolean perChannel) {
        this.n = n;
        this.c = c;
        this.l = l;
        this.g = g;
        this.perChannel = perChannel;
    }

    int stats() {
        return perChannel ? c : n * g;
    }

    int stat(int ni, int ci) {
        return perChannel ? ci : ni * g + ci / (c / g);
    }

    long elementsPerStat() {
        return perChannel ? (long) n * l : (long) (c / g) * l;
    }

    /** {mean[], biasedVar[]} with the two-pass formula. */
    double[][] moments(double[] x) {
        double[] mean = new double[stats()];
        double[] var = new double[stats()];
        double m = elementsPerStat();
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                for (int li = 0; li < l; li++) {
                    mean[stat(ni, ci)] += x[(ni * c + ci) * l + li];
                }
            }
        }
        for (int s = 0; s < mean.length; s++) {
            mean[s] /= m;
        }
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                for (int li = 0; li < l; li++) {
                    double d = x[(ni * c + ci) * l + li] - mean[stat(ni, ci)];
                    var[stat(ni, ci)] += d * d;
                }
            }
        }
        for (int s = 0; s < var.length; s++) {
            var[s] /= m;
        }
        return new double[][] {mean, var};
    }

    double[] normalize(double[] x, double[] mean, double[] var, double eps, double[] w, double[] b) {
        double[] y = new double[x.length];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int s = stat(ni, ci);
                double rstd = 1 / Math.sqrt(var[s] + eps);
                for (int li = 0; li < l; li++) {
                    int i = (ni * c + ci) * l + li;
                    y[i] = (x[i] - mean[s]) * rstd * (w == null ? 1 : w[ci]) + (b == null ? 0 : b[ci]);
                }
            }
        }
        return y;
    }

    /**
     * {dx, dw, db}: spec §0.1 when {@code train} (statistics from x), dx = g·rstd otherwise;
     * dw = Σ dy·x̂, db = Σ dy per channel.
     */
    double[][] backward(double[] dy, double[] x, double[] mean, double[] var, double eps, double[] w, boolean train) {
        int stats = stats();
        double m = elementsPerStat();
        double[] sg = new double[stats];
        double[] sgx = new double[stats];
        double[] dw = new double[c];
        double[] db = new double[c];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int s = stat(ni, ci);
                double rstd = 1 / Math.sqrt(var[s] + eps);
                for (int li = 0; li < l; li++) {
                    int i = (ni * c + ci) * l + li;
                    double xh = (x[i] - mean[s]) * rstd;
                    double gi = dy[i] * (w == null ? 1 : w[ci]);
                    sg[s] += gi;
                    sgx[s] += gi * xh;
                    dw[ci] += dy[i] * xh;
                    db[ci] += dy[i];
                }
            }
        }
        double[] dx = new double[x.length];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int s = stat(ni, ci);
                double rstd = 1 / Math.sqrt(var[s] + eps);
                for (int li = 0; li < l; li++) {
                    int i = (ni * c + ci) * l + li;
                    double xh = (x[i] - mean[s]) * rstd;
                    double gi = dy[i] * (w == null ? 1 : w[ci]);
                    dx[i] = train ? rstd * (gi - sg[s] / m - xh * sgx[s] / m) : gi * rstd;
                }
            }
        }
        return new double[][] {dx, dw, db};
    }

    /** PyTorch's running update: instances blocks of C statistics averaged, variance unbiased. */
    static double[][] running(double[] rm, double[] rv, double[] bm, double[] bv, int instances, long count,
                              double f) {
        int ch = rm.length;
        double[] m2 = new double[ch];
        double[] v2 = new double[ch];
        for (int c = 0; c < ch; c++) {
            double am = 0;
            double av = 0;
            for (int i = 0; i < instances; i++) {
                am += bm[i * ch + c];
                av += bv[i * ch + c] * count / (count - 1.0);
            }
            m2[c] = (1 - f) * rm[c] + f * am / instances;
            v2[c] = (1 - f) * rv[c] + f * av / instances;
        }
        return new double[][] {m2, v2};
    }
}
