package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.ReductionKernels;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/** Reference reductions: float64 accumulation in input order. */
final class CpuReductions implements ReductionKernels {

    @Override
    public void sum(Tensor x, boolean[] reduce, Tensor out) {
        write(out, sums(read(x), reducedIndex(x.shape(), reduce), (int) out.numel()));
    }

    @Override
    public void mean(Tensor x, boolean[] reduce, Tensor out) {
        double[] s = sums(read(x), reducedIndex(x.shape(), reduce), (int) out.numel());
        double n = (double) x.numel() / out.numel();
        for (int i = 0; i < s.length; i++) {
            s[i] /= n;
        }
        write(out, s);
    }

    @Override
    public void var(Tensor x, boolean[] reduce, int correction, Tensor out) {
        double[] v = read(x);
        int[] target = reducedIndex(x.shape(), reduce);
        int m = (int) out.numel();
        double n = (double) x.numel() / m;
        double[] mean = sums(v, target, m);
        for (int i = 0; i < m; i++) {
            mean[i] /= n;
        }
        // Two passes (mean, then squared deviations) avoid the cancellation of E[x^2] - E[x]^2.
        double[] ss = new double[m];
        for (int i = 0; i < v.length; i++) {
            double d = v[i] - mean[target[i]];
            ss[target[i]] += d * d;
        }
        for (int i = 0; i < m; i++) {
            ss[i] /= n - correction;
        }
        write(out, ss);
    }

    @Override
    public void varBackward(Tensor x, Tensor dy, boolean[] reduce, int correction, Tensor dx) {
        double[] v = read(x);
        double[] g = read(dy);
        int[] target = reducedIndex(x.shape(), reduce);
        double n = (double) x.numel() / dy.numel();
        double[] mean = sums(v, target, g.length);
        for (int i = 0; i < mean.length; i++) {
            mean[i] /= n;
        }
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = g[target[i]] * 2.0 * (v[i] - mean[target[i]]) / (n - correction);
        }
        write(dx, out);
    }

    private static double[] sums(double[] v, int[] target, int m) {
        double[] o = new double[m];
        for (int i = 0; i < v.length; i++) {
            o[target[i]] += v[i];
        }
        return o;
    }

    /** For each element of x, the flat index of its slot in the keep-dim reduced output. */
    static int[] reducedIndex(Shape in, boolean[] reduce) {
        int r = in.rank();
        int[] d = in.dims();
        long[] outStrides = new long[r];
        long acc = 1;
        for (int a = r - 1; a >= 0; a--) {
            outStrides[a] = reduce[a] ? 0 : acc;
            acc *= reduce[a] ? 1 : d[a];
        }
        int n = (int) in.numel();
        int[] idx = new int[n];
        int[] counter = new int[r];
        long off = 0;
        for (int k = 0; k < n; k++) {
            idx[k] = (int) off;
            for (int a = r - 1; a >= 0; a--) {
                counter[a]++;
                off += outStrides[a];
                if (counter[a] < d[a]) {
                    break;
                }
                off -= outStrides[a] * d[a];
                counter[a] = 0;
            }
        }
        return idx;
    }
}
