package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.LinalgKernels;
import io.jnorm.backend.cuda.CudaLinalgLaunchers.Gemm;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Matrix products on the GPU (gemm.cu). NumPy batch broadcasting is reduced to the kernel's two
 * strided batch levels: output batch axes of size 1 are dropped and neighbours with the same
 * broadcast pattern (both operands present, only A, only B) merge into one axis. Two or fewer
 * axes (every matmul and linear in practice) take one launch; deeper patterns loop over the
 * outer axes on the host with offset pointers.
 */
final class CudaLinalg implements LinalgKernels {
    private final CudaLinalgLaunchers ptx;

    CudaLinalg(CudaLinalgLaunchers ptx) {
        this.ptx = ptx;
    }

    /** One merged batch axis: its size and each operand's matrix stride along it (0 = broadcast). */
    record BatchAxis(long size, long aStride, long bStride) {
    }

    @Override
    public void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out) {
        if (out.numel() == 0) {
            return;
        }
        int r = out.rank();
        int m = out.dim(r - 2);
        int n = out.dim(r - 1);
        int k = transA ? a.dim(-2) : a.dim(-1);
        if (k == 0) {
            // An empty inner dimension: the product is zero, and the allocation already is.
            return;
        }
        List<BatchAxis> axes = batchAxes(a.shape().dims(), b.shape().dims(), out.shape().dims());
        long matA = (long) a.dim(-2) * a.dim(-1);
        long matB = (long) b.dim(-2) * b.dim(-1);
        int outer = Math.max(0, axes.size() - 2);
        List<BatchAxis> inner = axes.subList(outer, axes.size());
        BatchAxis l1 = inner.size() == 2 ? inner.get(0) : new BatchAxis(1, 0, 0);
        BatchAxis l2 = inner.isEmpty() ? new BatchAxis(1, 0, 0) : inner.get(inner.size() - 1);
        Gemm g = new Gemm(m, n, k, transA, transB, (int) l1.size(), (int) l2.size(),
                l1.aStride() * matA, l2.aStride() * matA, l1.bStride() * matB, l2.bStride() * matB);
        long launches = 1;
        for (int i = 0; i < outer; i++) {
            launches *= axes.get(i).size();
        }
        long perLaunch = l1.size() * l2.size() * (long) m * n;
        int bytes = a.dtype().bytes();
        for (long q = 0; q < launches; q++) {
            // Decode q into the outer axes' indices (last outer axis fastest, as out is laid out).
            long rem = q;
            long aOff = 0;
            long bOff = 0;
            for (int i = outer - 1; i >= 0; i--) {
                BatchAxis ax = axes.get(i);
                long idx = rem % ax.size();
                rem /= ax.size();
                aOff += idx * ax.aStride() * matA;
                bOff += idx * ax.bStride() * matB;
            }
            ptx.gemm(a.dtype(), offset(ptr(a), aOff * bytes), offset(ptr(b), bOff * bytes),
                    offset(ptr(out), q * perLaunch * bytes), g);
        }
    }

    /**
     * The output's batch axes merged by broadcast pattern, outermost first, with strides in
     * matrices of each operand's own (contiguous) batch layout.
     */
    static List<BatchAxis> batchAxes(int[] aDims, int[] bDims, int[] outDims) {
        int rank = outDims.length - 2;
        List<BatchAxis> axes = new ArrayList<>();
        long aInner = 1;
        long bInner = 1;
        // Walk from the innermost batch axis outwards, so strides are products of inner sizes.
        for (int i = rank - 1; i >= 0; i--) {
            int size = outDims[i];
            int ai = i - (rank - (aDims.length - 2));
            int bi = i - (rank - (bDims.length - 2));
            int aSize = ai >= 0 ? aDims[ai] : 1;
            int bSize = bi >= 0 ? bDims[bi] : 1;
            if (size != 1) {
                long as = aSize == 1 ? 0 : aInner;
                long bs = bSize == 1 ? 0 : bInner;
                BatchAxis first = axes.isEmpty() ? null : axes.get(0);
                // Merge with the axis inside when the pattern matches and the strides chain.
                if (first != null && (as == 0) == (first.aStride() == 0) && (bs == 0) == (first.bStride() == 0)
                        && (as == 0 || as == first.aStride() * first.size())
                        && (bs == 0 || bs == first.bStride() * first.size())) {
                    axes.set(0, new BatchAxis(first.size() * size, first.aStride(), first.bStride()));
                } else {
                    axes.add(0, new BatchAxis(size, as, bs));
                }
            }
            aInner *= aSize;
            bInner *= bSize;
        }
        return axes;
    }

    private static DevicePointer offset(DevicePointer p, long bytes) {
        return bytes == 0 ? p : new DevicePointer(p.address() + bytes, p.bytes() - bytes);
    }
}
