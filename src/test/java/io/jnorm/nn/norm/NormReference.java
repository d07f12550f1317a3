package io.jnorm.nn.norm;

import java.util.ArrayList;
import java.util.List;

/**
 * Forward references written from the spec's formulas (spec-brn-ubn-baselines.md §1), not from
 * the code under test: each statistic is an explicit list of flat indices of an NCHW tensor
 * (N, C, L), its mean and biased variance are computed from that list, and the output is
 * w·(x − μ)/sqrt(v + eps) + b.
 */
final class NormReference {
    private NormReference() {
    }

    /** Output and the statistics per index set (sets in the order they were listed). */
    record Result(double[] y, double[] mean, double[] biasedVar) {
    }

    static List<int[]> batchNormSets(int n, int c, int l) {
        List<int[]> sets = new ArrayList<>();
        for (int ch = 0; ch < c; ch++) {
            int[] idx = new int[n * l];
            int k = 0;
            for (int s = 0; s < n; s++) {
                for (int p = 0; p < l; p++) {
                    idx[k++] = (s * c + ch) * l + p;
                }
            }
            sets.add(idx);
        }
        return sets;
    }

    static List<int[]> groupNormSets(int n, int c, int l, int groups) {
        List<int[]> sets = new ArrayList<>();
        int per = c / groups;
        for (int s = 0; s < n; s++) {
            for (int g = 0; g < groups; g++) {
                int[] idx = new int[per * l];
                int k = 0;
                for (int ch = g * per; ch < (g + 1) * per; ch++) {
                    for (int p = 0; p < l; p++) {
                        idx[k++] = (s * c + ch) * l + p;
                    }
                }
                sets.add(idx);
            }
        }
        return sets;
    }

    /**
     * @param channelOf maps a flat index to the affine index (channel, or element for LayerNorm)
     */
    static Result normalize(double[] x, List<int[]> sets, double eps, double[] w, double[] b,
                            java.util.function.IntUnaryOperator channelOf) {
        double[] y = new double[x.length];
        double[] means = new double[sets.size()];
        double[] vars = new double[sets.size()];
        for (int s = 0; s < sets.size(); s++) {
            int[] idx = sets.get(s);
            double mu = 0;
            for (int i : idx) {
                mu += x[i];
            }
            mu /= idx.length;
            double v = 0;
            for (int i : idx) {
                v += (x[i] - mu) * (x[i] - mu);
            }
            v /= idx.length;
            means[s] = mu;
            vars[s] = v;
            for (int i : idx) {
                int ch = channelOf.applyAsInt(i);
                double scale = w == null ? 1 : w[ch];
                double shift = b == null ? 0 : b[ch];
                y[i] = scale * (x[i] - mu) / Math.sqrt(v + eps) + shift;
            }
        }
        return new Result(y, means, vars);
    }

    /** PyTorch's update: (1 − m)·old + m·new with the unbiased variance M/(M − 1). */
    static double[][] runningUpdate(double[] oldMean, double[] oldVar, double[] batchMean, double[] batchVar,
                                    long m, double momentum) {
        double[] rm = new double[oldMean.length];
        double[] rv = new double[oldVar.length];
        for (int c = 0; c < rm.length; c++) {
            rm[c] = (1 - momentum) * oldMean[c] + momentum * batchMean[c];
            rv[c] = (1 - momentum) * oldVar[c] + momentum * batchVar[c] * m / (m - 1);
        }
        return new double[][] {rm, rv};
    }
}
