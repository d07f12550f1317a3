package io.jnorm.nn;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Tensor;

/** max(x, 0) elementwise (NaN stays NaN); no parameters. */
public final class ReLU extends Module {

    @Override
    public Tensor forward(Tensor x) {
        return Ops.relu(x);
    }
}
