package io.jnorm.nn;

/**
 * Unified BN written straight from spec-brn-ubn-baselines.md §3.2-3.3 for the tests, in float64,
 * independent of the kernels (direct per-element formulas, no shared helpers).
 */
final class UbnReference {
    private UbnReference() {
    }

    /** c = (Σ_{i,j} S_ij − n)/(n(n − 1)) over the first min(N, cap) samples; 1 for one sample. */
    static double cosine(double[] x, int n, int perSample, int cap) {
        int m = Math.min(n, cap);
        if (m == 1) {
            return 1;
        }
        double total = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) {
                double dot = 0;
                double ni = 0;
                double nj = 0;
                for (int k = 0; k < perSample; k++) {
                    dot += x[i * perSample + k] * x[j * perSample + k];
                    ni += x[i * perSample + k] * x[i * perSample + k];
                    nj += x[j * perSample + k] * x[j * perSample + k];
                }
                total += dot / (Math.max(Math.sqrt(ni), 1e-8) * Math.max(Math.sqrt(nj), 1e-8));
            }
        }
        return (total - m) / (m * (m - 1.0));
    }

    /** The result of one forward: output and, for the batch branch, the statistics of xc. */
    record Result(double[] y, double[] batchMean, double[] batchVarBiased) {
    }

    /**
     * @param conv    [C·k·k] depthwise kernel or null (no affine); convBias [C]
     * @param runMean used when {@code batch} is false
     */
    static Result forward(double[] x, int n, int c, int h, int w, double[] wc, double[] ws, double[] bs,
                          double[] conv, int k, double[] convBias, double[] runMean, double[] runVar,
                          boolean batch, double eps) {
        int p = h * w;
        double[] xc = new double[x.length];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                double a = 0;
                for (int q = 0; q < p; q++) {
                    a += x[(s * c + ch) * p + q] / p;
                }
                for (int q = 0; q < p; q++) {
                    xc[(s * c + ch) * p + q] = x[(s * c + ch) * p + q] + wc[ch] * a;
                }
            }
        }
        double[] mu = new double[c];
        double[] var = new double[c];
        for (int ch = 0; ch < c; ch++) {
            if (batch) {
                double sum = 0;
                for (int s = 0; s < n; s++) {
                    for (int q = 0; q < p; q++) {
                        sum += xc[(s * c + ch) * p + q];
                    }
                }
                mu[ch] = sum / (n * p);
                double sq = 0;
                for (int s = 0; s < n; s++) {
                    for (int q = 0; q < p; q++) {
                        double d = xc[(s * c + ch) * p + q] - mu[ch];
                        sq += d * d;
                    }
                }
                var[ch] = sq / (n * p);
            } else {
                mu[ch] = runMean[ch];
                var[ch] = runVar[ch];
            }
        }
        double[] xhat = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            int ch = (i / p) % c;
            xhat[i] = (xc[i] - mu[ch]) / Math.sqrt(var[ch] + eps);
        }
        double[] y = new double[x.length];
        int pad = (k - 1) / 2;
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (s * c + ch) * p;
                double b = 0;
                for (int q = 0; q < p; q++) {
                    b += xhat[base + q] / p;
                }
                double scale = 1 / (1 + Math.exp(-(ws[ch] * b + bs[ch])));
                for (int r = 0; r < h; r++) {
                    for (int col = 0; col < w; col++) {
                        double z;
                        if (conv == null) {
                            z = xhat[base + r * w + col];
                        } else {
                            z = convBias[ch];
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int rr = r + i - pad;
                                    int cc = col + j - pad;
                                    if (rr >= 0 && rr < h && cc >= 0 && cc < w) {
                                        z += conv[(ch * k + i) * k + j] * xhat[base + rr * w + cc];
                                    }
                                }
                            }
                        }
                        y[base + r * w + col] = scale * z;
                    }
                }
            }
        }
        return new Result(y, batch ? mu : null, batch ? var : null);
    }
}
