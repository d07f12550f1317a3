package io.jnorm.backend;

import io.jnorm.tensor.Tensor;

/** Data movement between contiguous tensors of one dtype (copies; no views yet). */
public interface ShapeKernels {

    /** out = x broadcast (NumPy rules) to out's shape. */
    void expand(Tensor x, Tensor out);

    /** out = x with its axes reordered: out axis i is x axis perm[i]. */
    void permute(Tensor x, int[] perm, Tensor out);

    /** out[..., i, ...] = x[..., start + i * step, ...] along {@code axis}; out.dim(axis) elements. */
    void slice(Tensor x, int axis, int start, int step, Tensor out);

    /**
     * The adjoint of {@link #slice}: dst[..., start + i * step, ...] = src[..., i, ...] along
     * {@code axis}; every other element of dst is left as it was.
     */
    void sliceScatter(Tensor src, int axis, int start, int step, Tensor dst);
}
