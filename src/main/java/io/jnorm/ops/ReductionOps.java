package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.BinaryOp;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/** Reductions over axes and their gradients (a broadcast of the upstream gradient). */
final class ReductionOps {
    private ReductionOps() {
    }

    /** Sum over the masked axes, keep-dim shape inside, squeezed unless keepDim. */
    static Tensor sum(Tensor x, boolean[] reduce, boolean keepDim) {
        Shape kept = keptShape(x.shape(), reduce);
        Tensor out = Tensor.zeros(kept, x.dtype(), x.device());
        x.backend().reductions().sum(x, reduce, out);
        Autograd.record("sum", out, (gy, needs) -> new Tensor[] {ShapeOps.expand(gy, x.shape())}, x);
        return keepDim ? out : ShapeOps.reshape(out, squeezedShape(x.shape(), reduce));
    }

    /** Mean over the masked axes. */
    static Tensor mean(Tensor x, boolean[] reduce, boolean keepDim) {
        Shape kept = keptShape(x.shape(), reduce);
        Tensor out = Tensor.zeros(kept, x.dtype(), x.device());
        x.backend().reductions().mean(x, reduce, out);
        double n = (double) x.numel() / kept.numel();
        Autograd.record("mean", out, (gy, needs) -> new Tensor[] {
            ElementwiseOps.binary(BinaryOp.MUL, ShapeOps.expand(gy, x.shape()), Ops.scalarLike(gy, 1.0 / n))}, x);
        return keepDim ? out : ShapeOps.reshape(out, squeezedShape(x.shape(), reduce));
    }

    /** Variance over the masked axes with divisor n - correction. */
    static Tensor var(Tensor x, boolean[] reduce, int correction, boolean keepDim) {
        Shape kept = keptShape(x.shape(), reduce);
        Tensor out = Tensor.zeros(kept, x.dtype(), x.device());
        x.backend().reductions().var(x, reduce, correction, out);
        Autograd.record("var", out, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().reductions().varBackward(x, gy, reduce, correction, gx);
            return new Tensor[] {gx};
        }, x);
        return keepDim ? out : ShapeOps.reshape(out, squeezedShape(x.shape(), reduce));
    }

    /** Sums a broadcast gradient back to the shape of the input it was broadcast from. */
    static Tensor sumTo(Tensor g, Shape target) {
        if (g.shape().equals(target)) {
            return g;
        }
        int r = g.rank();
        int shift = r - target.rank();
        boolean[] reduce = new boolean[r];
        for (int a = 0; a < r; a++) {
            reduce[a] = a < shift || (target.dim(a - shift) == 1 && g.shape().dim(a) != 1);
        }
        Tensor s = sum(g, reduce, true);
        return ShapeOps.reshape(s, target);
    }

    static Shape keptShape(Shape in, boolean[] reduce) {
        int[] d = in.dims();
        for (int a = 0; a < d.length; a++) {
            if (reduce[a]) {
                d[a] = 1;
            }
        }
        return Shape.of(d);
    }

    static Shape squeezedShape(Shape in, boolean[] reduce) {
        int[] d = in.dims();
        int n = 0;
        for (int a = 0; a < d.length; a++) {
            if (!reduce[a]) {
                n++;
            }
        }
        int[] out = new int[n];
        int k = 0;
        for (int a = 0; a < d.length; a++) {
            if (!reduce[a]) {
                out[k++] = d[a];
            }
        }
        return n == 0 ? Shape.scalar() : Shape.of(out);
    }
}
