package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/** Matrix products on tensors of one dtype (the GEMM a GPU backend hands to cuBLAS). */
public interface LinalgKernels {

    /**
     * out[..., M, N] = op(a)[..., M, K] @ op(b)[..., K, N], where op transposes the last two
     * axes when its flag is set. Both operands have rank >= 2; their batch axes (all but the
     * last two) broadcast, NumPy style, to the batch axes of {@code out}.
     */
    void matmul(Tensor a, boolean transA, Tensor b, boolean transB, Tensor out);
}
