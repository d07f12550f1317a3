package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/**
 * Reductions over a set of axes; {@code out} has the keep-dim shape (1 on reduced axes) and
 * {@code reduce[axis]} says which axes are reduced. n below is the number of elements reduced
 * into each output.
 */
public interface ReductionKernels {

    /** out = sum of x over the reduced axes. */
    void sum(Tensor x, boolean[] reduce, Tensor out);

    /** out = sum / n. */
    void mean(Tensor x, boolean[] reduce, Tensor out);

    /**
     * out = sum((x - mean)^2) / (n - correction), two-pass in float64; correction 0 is the
     * biased (population) variance, 1 the unbiased one, which is NaN when n == 1 (as PyTorch).
     */
    void var(Tensor x, boolean[] reduce, int correction, Tensor out);

    /** dx = dy * 2 (x - mean) / (n - correction), with dy in the keep-dim shape broadcast over x. */
    void varBackward(Tensor x, Tensor dy, boolean[] reduce, int correction, Tensor dx);
}
