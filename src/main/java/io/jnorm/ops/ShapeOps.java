package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/** Shape ops on contiguous tensors. */
final class ShapeOps {
    private ShapeOps() {
    }

    /** Same elements, another shape; shares memory (contiguous storage makes this free). */
    static Tensor reshape(Tensor x, Shape shape) {
        if (shape.numel() != x.numel()) {
            throw new IllegalArgumentException("reshape: cannot reshape " + x.shape() + " (" + x.numel()
                    + " elements) to " + shape + " (" + shape.numel() + " elements)");
        }
        if (shape.equals(x.shape())) {
            return x;
        }
        Tensor y = x.sharing(shape);
        return Autograd.record("reshape", y, (gy, needs) -> new Tensor[] {reshape(gy, x.shape())}, x);
    }

    /** Resolves one -1 in a requested shape. */
    static Shape inferShape(long numel, int[] dims) {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (infer >= 0) {
                    throw new IllegalArgumentException("reshape: more than one -1 in " + java.util.Arrays.toString(dims));
                }
                infer = i;
            } else {
                known *= dims[i];
            }
        }
        int[] d = dims.clone();
        if (infer >= 0) {
            if (known <= 0 || numel % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer -1 in " + java.util.Arrays.toString(dims)
                        + " for " + numel + " elements");
            }
            d[infer] = (int) (numel / known);
        }
        return Shape.of(d);
    }

    /** Merges the axes from {@code startAxis} to the end into one. */
    static Tensor flatten(Tensor x, int startAxis) {
        if (x.rank() == 0) {
            throw new IllegalArgumentException("flatten: input must have rank >= 1, got a scalar");
        }
        int s = Shape.normalizeAxis(startAxis, x.rank(), "flatten");
        int[] d = java.util.Arrays.copyOf(x.shape().dims(), s + 1);
        d[s] = (int) x.shape().numel(s, x.rank());
        return reshape(x, Shape.of(d));
    }
}
