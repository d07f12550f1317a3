package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.LinalgKernels;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** Reference matrix product: the triple loop per batch, float64 accumulation. */
final class CpuLinalg implements LinalgKernels {

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        int r = out.rank();
        int m = out.dim(r - 2);
        int n = out.dim(r - 1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        // Each matrix is addressed by its batch index; broadcasting maps out's batch to a's and b's.
        Shape outBatch = batchOf(out.shape());
        int[] aBatch = Broadcast.sourceIndex(batchOf(a.shape()), outBatch);
        int[] bBatch = Broadcast.sourceIndex(batchOf(b.shape()), outBatch);
        double[] av = read(a);
        double[] bv = read(b);
        double[] o = new double[(int) out.numel()];
        int aRows = a.dim(-2);
        int aCols = a.dim(-1);
        int bRows = b.dim(-2);
        int bCols = b.dim(-1);
        for (int t = 0; t < aBatch.length; t++) {
            int aOff = aBatch[t] * aRows * aCols;
            int bOff = bBatch[t] * bRows * bCols;
            int oOff = t * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double x = transA ? av[aOff + p * aCols + i] : av[aOff + i * aCols + p];
                        double y = transB ? bv[bOff + j * bCols + p] : bv[bOff + p * bCols + j];
                        s += x * y;
                    }
                    o[oOff + i * n + j] = s;
                }
            }
        }
        write(out, o);
    }

    private static Shape batchOf(Shape s) {
        return Shape.of(Arrays.copyOf(s.dims(), s.rank() - 2));
    }
}
