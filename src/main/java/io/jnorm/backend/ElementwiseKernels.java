package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/** Elementwise kernels; all tensors share one dtype. */
public interface ElementwiseKernels {

    /** out = f(x). */
    void unary(UnaryOp op, Tensor x, Tensor out);

    /** dx = dy * f'(x), using y = f(x) where that is cheaper (exp, sigmoid, tanh, sqrt). */
    void unaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx);

    /** out = a op b with NumPy broadcasting; out has the broadcast shape. */
    void binary(BinaryOp op, Tensor a, Tensor b, Tensor out);

    /** out = x ^ p. */
    void powScalar(Tensor x, double p, Tensor out);

    /** dx = dy * p * x^(p-1). */
    void powScalarBackward(Tensor x, double p, Tensor dy, Tensor dx);
}
