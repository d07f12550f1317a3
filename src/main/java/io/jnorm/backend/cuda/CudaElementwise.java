package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaBuffer.ptr;

import io.jnorm.backend.BinaryOp;
import io.jnorm.backend.ElementwiseKernels;
import io.jnorm.backend.UnaryOp;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;

/**
 * Elementwise kernels on the GPU (elementwise.cu). Picks the contiguous vectorized kernel when
 * every operand is out-shaped or a single element, and the strided broadcast kernel otherwise.
 */
final class CudaElementwise implements ElementwiseKernels {
    private final PtxModules modules;
    private final ElementwisePtx ptx;

    CudaElementwise(PtxModules modules) {
        this.modules = modules;
        this.ptx = new ElementwisePtx(modules);
    }

    /** Grid for a vectorized kernel: one thread per 16-byte vector. */
    private LaunchConfig vectorGrid(long n, DType t) {
        int width = 16 / t.bytes();
        return modules.grid1d((n + width - 1) / width);
    }

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        long n = out.numel();
        ptx.unary(x.dtype(), vectorGrid(n, x.dtype()), op.ordinal(), n, ptr(x), ptr(out));
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        // The derivative needs one of x and y (see UnaryGrad in elementwise.cu); neg needs neither.
        DevicePointer v = switch (op) {
            case NEG -> ptr(dy);
            case LOG, RELU, ABS -> ptr(x);
            case EXP, SQRT, SIGMOID, TANH -> ptr(y);
        };
        long n = dx.numel();
        ptx.unaryBackward(dx.dtype(), vectorGrid(n, dx.dtype()), op.ordinal(), n, v, ptr(dy), ptr(dx));
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        long n = out.numel();
        boolean scalarA = a.numel() == 1;
        boolean scalarB = b.numel() == 1;
        boolean fullA = a.numel() == n;
        boolean fullB = b.numel() == n;
        DType t = out.dtype();
        if ((scalarA || fullA) && (scalarB || fullB)) {
            // Same element count as out means same shape up to leading 1s: contiguous either way.
            ptx.binary(t, vectorGrid(n, t), op.ordinal(), scalarA && !fullA, scalarB && !fullB, n, ptr(a), ptr(b),
                    ptr(out));
            return;
        }
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        int count = CudaShapes.checkedIndexRange(n, name, out);
        int[] od = out.shape().dims();
        StridedMaps.Layout layout = StridedMaps.coalesce(od, StridedMaps.broadcastStrides(a.shape().dims(), od),
                StridedMaps.broadcastStrides(b.shape().dims(), od));
        ptx.binaryBcast(t, modules.grid1d(n), op.ordinal(), count, ptr(a), ptr(b), ptr(out),
                StridedMaps.encode(layout, name));
    }

    @Override
    public void powScalar(Tensor x, double p, Tensor out) {
        long n = out.numel();
        ptx.pow(x.dtype(), vectorGrid(n, x.dtype()), n, p, ptr(x), ptr(out));
    }

    @Override
    public void powScalarBackward(Tensor x, double p, Tensor dy, Tensor dx) {
        long n = dx.numel();
        ptx.powBackward(x.dtype(), vectorGrid(n, x.dtype()), n, p, ptr(x), ptr(dy), ptr(dx));
    }

    /** Sets n elements at {@code y} to v (rounded to t), asynchronously. */
    void fill(DType t, long n, double v, DevicePointer y) {
        ptx.fill(t, vectorGrid(n, t), n, v, y);
    }

    /** Backend.copy with a dtype change. */
    void cast(Tensor src, Tensor dst) {
        long n = src.numel();
        ptx.cast(src.dtype(), modules.grid1d(n), n, ptr(src), ptr(dst));
    }
}
