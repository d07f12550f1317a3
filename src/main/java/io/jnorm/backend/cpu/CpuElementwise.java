package io.jnorm.backend.cpu;

import static io.jnorm.backend.cpu.CpuBuffer.read;
import static io.jnorm.backend.cpu.CpuBuffer.write;

import io.jnorm.backend.BinaryOp;
import io.jnorm.backend.ElementwiseKernels;
import io.jnorm.backend.UnaryOp;
import io.jnorm.tensor.Tensor;

/** Reference elementwise kernels: one textbook loop each, in float64. */
final class CpuElementwise implements ElementwiseKernels {

    @Override
    public void unary(UnaryOp op, Tensor x, Tensor out) {
        double[] v = read(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = apply(op, v[i]);
        }
        write(out, v);
    }

    static double apply(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RELU -> x > 0 ? x : (Double.isNaN(x) ? x : 0.0);
            case SIGMOID -> x >= 0 ? 1.0 / (1.0 + Math.exp(-x)) : Math.exp(x) / (1.0 + Math.exp(x));
            case TANH -> Math.tanh(x);
            case ABS -> Math.abs(x);
        };
    }

    @Override
    public void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx) {
        double[] xv = read(x);
        double[] yv = read(y);
        double[] g = read(dy);
        double[] out = new double[g.length];
        for (int i = 0; i < g.length; i++) {
            double d = switch (op) {
                case NEG -> -1.0;
                case EXP -> yv[i];
                case LOG -> 1.0 / xv[i];
                case SQRT -> 0.5 / yv[i];
                case RELU -> xv[i] > 0 ? 1.0 : 0.0;
                case SIGMOID -> yv[i] * (1.0 - yv[i]);
                case TANH -> 1.0 - yv[i] * yv[i];
                case ABS -> Math.signum(xv[i]);
            };
            out[i] = g[i] * d;
        }
        write(dx, out);
    }

    @Override
    public void binary(BinaryOp op, Tensor a, Tensor b, Tensor out) {
        double[] av = read(a);
        double[] bv = read(b);
        // Index maps only where an operand is really broadcast: the common same-shape case and a
        // scalar operand skip the per-element gather.
        boolean aScalar = a.numel() == 1;
        boolean bScalar = b.numel() == 1;
        int[] ia = aScalar || a.shape().equals(out.shape()) ? null : Broadcast.sourceIndex(a.shape(), out.shape());
        int[] ib = bScalar || b.shape().equals(out.shape()) ? null : Broadcast.sourceIndex(b.shape(), out.shape());
        double[] o = new double[(int) out.numel()];
        for (int i = 0; i < o.length; i++) {
            double x = aScalar ? av[0] : ia == null ? av[i] : av[ia[i]];
            double y = bScalar ? bv[0] : ib == null ? bv[i] : bv[ib[i]];
            o[i] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
            };
        }
        write(out, o);
    }

    @Override
    public void powScalar(Tensor x, double p, Tensor out) {
        double[] v = read(x);
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.pow(v[i], p);
        }
        write(out, v);
    }

    @Override
    public void powScalarBackward(Tensor x, double p, Tensor dy, Tensor dx) {
        double[] v = read(x);
        double[] g = read(dy);
        for (int i = 0; i < v.length; i++) {
            v[i] = p == 0 ? 0.0 : g[i] * p * Math.pow(v[i], p - 1);
        }
        write(dx, v);
    }
}
