package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.BinaryOp;
import io.jnorm.backend.UnaryOp;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/** Elementwise ops with NumPy broadcasting and their local gradients. */
final class ElementwiseOps {
    private ElementwiseOps() {
    }

    static Tensor unary(UnaryOp op, Tensor x) {
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().elementwise().unary(op, x, y);
        return Autograd.record(op.name().toLowerCase(java.util.Locale.ROOT), y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().elementwise().unaryBackward(op, x, y, gy, gx);
            return new Tensor[] {gx};
        }, x);
    }

    static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        String name = op.name().toLowerCase(java.util.Locale.ROOT);
        Checks.sameDeviceAndDtype(name, a, b);
        Shape out = Shape.broadcast(a.shape(), b.shape(), name);
        Tensor y = Tensor.zeros(out, a.dtype(), a.device());
        a.backend().elementwise().binary(op, a, b, y);
        return Autograd.record(name, y, (gy, needs) -> {
            Tensor ga = null;
            Tensor gb = null;
            switch (op) {
                case ADD -> {
                    ga = needs[0] ? ReductionOps.sumTo(gy, a.shape()) : null;
                    gb = needs[1] ? ReductionOps.sumTo(gy, b.shape()) : null;
                }
                case SUB -> {
                    ga = needs[0] ? ReductionOps.sumTo(gy, a.shape()) : null;
                    gb = needs[1] ? ReductionOps.sumTo(unary(UnaryOp.NEG, gy), b.shape()) : null;
                }
                case MUL -> {
                    ga = needs[0] ? ReductionOps.sumTo(binary(BinaryOp.MUL, gy, b), a.shape()) : null;
                    gb = needs[1] ? ReductionOps.sumTo(binary(BinaryOp.MUL, gy, a), b.shape()) : null;
                }
                case DIV -> {
                    ga = needs[0] ? ReductionOps.sumTo(binary(BinaryOp.DIV, gy, b), a.shape()) : null;
                    if (needs[1]) {
                        // d(a/b)/db = -a / b^2 = -y / b
                        Tensor t = binary(BinaryOp.DIV, binary(BinaryOp.MUL, gy, y), b);
                        gb = ReductionOps.sumTo(unary(UnaryOp.NEG, t), b.shape());
                    }
                }
                default -> throw new IllegalStateException("unhandled " + op);
            }
            return new Tensor[] {ga, gb};
        }, a, b);
    }

    static Tensor pow(Tensor x, double p) {
        Checks.finite("pow", "exponent", p);
        Tensor y = Tensor.zeros(x.shape(), x.dtype(), x.device());
        x.backend().elementwise().powScalar(x, p, y);
        return Autograd.record("pow", y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().elementwise().powScalarBackward(x, p, gy, gx);
            return new Tensor[] {gx};
        }, x);
    }
}
