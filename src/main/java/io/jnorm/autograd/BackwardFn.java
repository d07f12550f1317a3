package io.jnorm.autograd;

import io.jnorm.tensor.Tensor;

/**
 * The local gradient of one op: given dL/d(output), the gradients of its inputs.
 * {@code needsGrad[i]} says which inputs want one; entries for the others may be null.
 */
@FunctionalInterface
public interface BackwardFn {
    Tensor[] apply(Tensor gradOutput, boolean[] needsGrad);
}
