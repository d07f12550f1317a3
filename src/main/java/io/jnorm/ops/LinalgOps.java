package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.BinaryOp;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** Matrix products: matmul with batch broadcasting, and linear (x W^T + b). */
final class LinalgOps {
    private LinalgOps() {
    }

    static Tensor matmul(Tensor a, Tensor b) {
        Checks.sameDeviceAndDtype("matmul", a, b);
        for (Tensor t : new Tensor[] {a, b}) {
            if (t.rank() < 2) {
                throw new IllegalArgumentException("matmul: operands need rank >= 2, got " + a.shape() + " @ "
                        + b.shape() + "; reshape a vector to [1, n] or [n, 1] first");
            }
        }
        if (a.dim(-1) != b.dim(-2)) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + a.shape() + " @ " + b.shape()
                    + " (" + a.dim(-1) + " vs " + b.dim(-2) + ")");
        }
        Shape batch = Shape.broadcast(batchOf(a.shape()), batchOf(b.shape()), "matmul");
        Tensor y = Tensor.zeros(withMatrix(batch, a.dim(-2), b.dim(-1)), a.dtype(), a.device());
        a.backend().linalg().matmul(a, false, b, false, y);
        return Autograd.record("matmul", y, (gy, needs) -> {
            Tensor ga = null;
            Tensor gb = null;
            if (needs[0]) {
                // dA = dY B^T, summed over the batch axes A was broadcast along.
                Tensor full = Tensor.zeros(withMatrix(batch, a.dim(-2), a.dim(-1)), a.dtype(), a.device());
                a.backend().linalg().matmul(gy, false, b, true, full);
                ga = ReductionOps.sumTo(full, a.shape());
            }
            if (needs[1]) {
                Tensor full = Tensor.zeros(withMatrix(batch, b.dim(-2), b.dim(-1)), b.dtype(), b.device());
                a.backend().linalg().matmul(a, true, gy, false, full);
                gb = ReductionOps.sumTo(full, b.shape());
            }
            return new Tensor[] {ga, gb};
        }, a, b);
    }

    static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        String op = "linear";
        Checks.sameDeviceAndDtypeAs(op, "weight", w, x);
        Checks.sameDeviceAndDtypeAs(op, "bias", bias, x);
        Checks.rank(op, "weight", w, 2);
        if (x.rank() < 1) {
            throw new IllegalArgumentException(op + ": input must have rank >= 1, got shape " + x.shape());
        }
        int in = w.dim(1);
        int out = w.dim(0);
        if (x.dim(-1) != in) {
            throw new IllegalArgumentException(op + ": input " + x.shape() + " has " + x.dim(-1)
                    + " features in its last axis but weight " + w.shape() + " expects " + in);
        }
        if (bias != null) {
            Checks.shape(op, "bias", bias, Shape.of(out));
        }
        int[] yd = x.shape().dims();
        yd[yd.length - 1] = out;
        Shape yShape = Shape.of(yd);
        int rows = (int) (x.numel() / in);
        Tensor y = Tensor.zeros(yShape, x.dtype(), x.device());
        // As 2-D matrices: Y[rows, out] = X[rows, in] W^T (+ b broadcast over rows).
        try (Tensor x2 = x.sharing(Shape.of(rows, in)); Tensor y2 = y.sharing(Shape.of(rows, out))) {
            if (bias == null) {
                x.backend().linalg().matmul(x2, false, w, true, y2);
            } else {
                try (Tensor xw = Tensor.zeros(y2.shape(), x.dtype(), x.device())) {
                    x.backend().linalg().matmul(x2, false, w, true, xw);
                    x.backend().elementwise().binary(BinaryOp.ADD, xw, bias, y2);
                }
            }
        }
        return Autograd.record(op, y, (gy, needs) -> {
            Tensor gx = null;
            Tensor gw = null;
            Tensor gb = null;
            try (Tensor gy2 = gy.sharing(Shape.of(rows, out))) {
                if (needs[0]) {
                    gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
                    try (Tensor gx2 = gx.sharing(Shape.of(rows, in))) {
                        x.backend().linalg().matmul(gy2, false, w, false, gx2);
                    }
                }
                if (needs[1]) {
                    gw = Tensor.zeros(w.shape(), w.dtype(), w.device());
                    try (Tensor x2 = x.sharing(Shape.of(rows, in))) {
                        x.backend().linalg().matmul(gy2, true, x2, false, gw);
                    }
                }
                if (bias != null && needs[2]) {
                    gb = ReductionOps.sum(gy2, new boolean[] {true, false}, false);
                }
            }
            return new Tensor[] {gx, gw, gb};
        }, x, w, bias);
    }

    private static Shape batchOf(Shape s) {
        return Shape.of(Arrays.copyOf(s.dims(), s.rank() - 2));
    }

    private static Shape withMatrix(Shape batch, int rows, int cols) {
        int[] d = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        d[d.length - 2] = rows;
        d[d.length - 1] = cols;
        return Shape.of(d);
    }
}
