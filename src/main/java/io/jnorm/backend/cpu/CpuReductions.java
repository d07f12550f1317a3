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
        double[] v = read(x);
        double[] o = new double[(int) out.numel()];
        int[] target = reducedIndex(x.shape(), reduce);
        for (int i = 0; i < v.length; i++) {
            o[target[i]] += v[i];
        }
        write(out, o);
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
