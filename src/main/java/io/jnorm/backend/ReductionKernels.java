package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/** Reductions over a set of axes; {@code out} has the keep-dim shape (1 on reduced axes). */
public interface ReductionKernels {

    /** out = sum of x over the axes where {@code reduce[axis]} is true. */
    void sum(Tensor x, boolean[] reduce, Tensor out);
}
