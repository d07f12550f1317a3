package io.jnorm.nn;

/**
 * Switchable Normalization written straight from spec-ws-bcn-sn.md §3.1-3.3 for the tests, in
 * float64, with its own loop structure (one-pass sums), independent of the kernels.
 */
final class SnReference {
    final int n;
    final int c;
    final int l;
    final double[] meanIn;
    final double[] varIn;
    final double[] meanLn;
    final double[] varLn;
    final double[] meanBn;
    final double[] varBn;

    SnReference(double[] x, int n, int c, int h, int w) {
        this.n = n;
        this.c = c;
        this.l = h * w;
        meanIn = new double[n * c];
        varIn = new double[n * c];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                double sq = 0;
                for (int p = 0; p < l; p++) {
                    double v = x[(s * c + ch) * l + p];
                    sum += v;
                    sq += v * v;
                }
                double m = sum / l;
                meanIn[s * c + ch] = m;
                varIn[s * c + ch] = (sq - l * m * m) / (l - 1);
            }
        }
        meanLn = new double[n];
        varLn = new double[n];
        for (int s = 0; s < n; s++) {
            double m = 0;
            double t = 0;
            for (int ch = 0; ch < c; ch++) {
                m += meanIn[s * c + ch] / c;
                t += (varIn[s * c + ch] + meanIn[s * c + ch] * meanIn[s * c + ch]) / c;
            }
            meanLn[s] = m;
            varLn[s] = t - m * m;
        }
        meanBn = new double[c];
        varBn = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double m = 0;
            double t = 0;
            for (int s = 0; s < n; s++) {
                m += meanIn[s * c + ch] / n;
                t += (varIn[s * c + ch] + meanIn[s * c + ch] * meanIn[s * c + ch]) / n;
            }
            meanBn[ch] = m;
            varBn[ch] = t - m * m;
        }
    }

    static double[] softmax(double[] z) {
        double[] e = new double[z.length];
        double s = 0;
        for (int i = 0; i < z.length; i++) {
            e[i] = Math.exp(z[i]);
            s += e[i];
        }
        for (int i = 0; i < z.length; i++) {
            e[i] /= s;
        }
        return e;
    }

    /**
     * The layer output. With 3 logits BN is mixed: from this batch when {@code runningMean} is
     * null, otherwise from the given running statistics.
     */
    double[] output(double[] x, double[] meanLogits, double[] varLogits, double[] gamma, double[] beta,
                    double[] runningMean, double[] runningVar, double eps) {
        double[] w = softmax(meanLogits);
        double[] v = softmax(varLogits);
        boolean bn = meanLogits.length == 3;
        double[] y = new double[x.length];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int i = s * c + ch;
                double mean = w[0] * meanIn[i] + w[1] * meanLn[s];
                double var = v[0] * varIn[i] + v[1] * varLn[s];
                if (bn) {
                    mean += w[2] * (runningMean == null ? meanBn[ch] : runningMean[ch]);
                    var += v[2] * (runningVar == null ? varBn[ch] : runningVar[ch]);
                }
                for (int p = 0; p < l; p++) {
                    y[i * l + p] = gamma[ch] * (x[i * l + p] - mean) / Math.sqrt(var + eps) + beta[ch];
                }
            }
        }
        return y;
    }
}
