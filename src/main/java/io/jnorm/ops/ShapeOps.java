package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

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
                    throw new IllegalArgumentException("reshape: more than one -1 in " + Arrays.toString(dims));
                }
                infer = i;
            } else {
                known *= dims[i];
            }
        }
        int[] d = dims.clone();
        if (infer >= 0) {
            if (known <= 0 || numel % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer -1 in " + Arrays.toString(dims)
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
        int[] d = Arrays.copyOf(x.shape().dims(), s + 1);
        d[s] = (int) x.shape().numel(s, x.rank());
        return reshape(x, Shape.of(d));
    }

    /** Broadcasts x to {@code shape} (materialized); the gradient sums back to x's shape. */
    static Tensor expand(Tensor x, Shape shape) {
        Shape b = Shape.broadcast(x.shape(), shape, "expand");
        if (!b.equals(shape)) {
            throw new IllegalArgumentException("expand: " + x.shape() + " cannot be expanded to " + shape
                    + " (it would broadcast to " + b + ")");
        }
        if (x.shape().equals(shape)) {
            return x;
        }
        Tensor y = Tensor.zeros(shape, x.dtype(), x.device());
        x.backend().shapes().expand(x, y);
        return Autograd.record("expand", y, (gy, needs) -> new Tensor[] {ReductionOps.sumTo(gy, x.shape())}, x);
    }

    /** A copy with axes reordered: output axis i is input axis perm[i]. */
    static Tensor permute(Tensor x, int[] perm) {
        int r = x.rank();
        if (perm == null || perm.length != r) {
            throw new IllegalArgumentException("permute: permutation " + Arrays.toString(perm) + " has "
                    + (perm == null ? 0 : perm.length) + " axes but input " + x.shape() + " has rank " + r);
        }
        int[] p = new int[r];
        boolean[] seen = new boolean[r];
        int[] d = new int[r];
        for (int i = 0; i < r; i++) {
            p[i] = Shape.normalizeAxis(perm[i], r, "permute");
            if (seen[p[i]]) {
                throw new IllegalArgumentException("permute: axis " + perm[i] + " repeated in " + Arrays.toString(perm)
                        + " for input " + x.shape());
            }
            seen[p[i]] = true;
            d[i] = x.dim(p[i]);
        }
        int[] inverse = new int[r];
        for (int i = 0; i < r; i++) {
            inverse[p[i]] = i;
        }
        Tensor y = Tensor.zeros(r == 0 ? Shape.scalar() : Shape.of(d), x.dtype(), x.device());
        x.backend().shapes().permute(x, p, y);
        return Autograd.record("permute", y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().shapes().permute(gy, inverse, gx);
            return new Tensor[] {gx};
        }, x);
    }

    /** Joins tensors along an existing axis; every other axis must agree. */
    static Tensor concat(List<Tensor> xs, int axis) {
        String op = "concat";
        if (xs == null || xs.isEmpty()) {
            throw new IllegalArgumentException(op + ": needs at least one tensor");
        }
        Tensor first = xs.get(0);
        if (first.rank() == 0) {
            throw new IllegalArgumentException(op + ": cannot concatenate scalars (rank 0)");
        }
        int a = Shape.normalizeAxis(axis, first.rank(), op);
        int total = 0;
        int[] offsets = new int[xs.size()];
        for (int i = 0; i < xs.size(); i++) {
            Tensor t = xs.get(i);
            if (t == null) {
                throw new IllegalArgumentException(op + ": tensor " + i + " is null");
            }
            Checks.sameDeviceAndDtype(op, first, t);
            boolean ok = t.rank() == first.rank();
            for (int k = 0; ok && k < t.rank(); k++) {
                ok = k == a || t.dim(k) == first.dim(k);
            }
            if (!ok) {
                throw new IllegalArgumentException(op + ": tensor " + i + " " + t.shape() + " does not match tensor 0 "
                        + first.shape() + " outside axis " + axis);
            }
            offsets[i] = total;
            total += t.dim(a);
        }
        Tensor y = Tensor.zeros(first.shape().withDim(a, total), first.dtype(), first.device());
        for (int i = 0; i < xs.size(); i++) {
            first.backend().shapes().sliceScatter(xs.get(i), a, offsets[i], 1, y);
        }
        Tensor[] inputs = xs.toArray(new Tensor[0]);
        return Autograd.record(op, y, (gy, needs) -> {
            Tensor[] g = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (needs[i]) {
                    g[i] = Tensor.zeros(inputs[i].shape(), gy.dtype(), gy.device());
                    gy.backend().shapes().slice(gy, a, offsets[i], 1, g[i]);
                }
            }
            return g;
        }, inputs);
    }

    /**
     * Elements start, start + step, ... below end along one axis (Python slicing with step > 0:
     * negative start and end count from the end, out-of-range bounds are clamped).
     */
    static Tensor slice(Tensor x, int axis, int start, int end, int step) {
        String op = "slice";
        if (x.rank() == 0) {
            throw new IllegalArgumentException(op + ": cannot slice a scalar (rank 0)");
        }
        int a = Shape.normalizeAxis(axis, x.rank(), op);
        if (step <= 0) {
            throw new IllegalArgumentException(op + ": step must be positive, got " + step);
        }
        int n = x.dim(a);
        int s = clamp(start < 0 ? start + n : start, n);
        int e = clamp(end < 0 ? end + n : end, n);
        int len = e > s ? (e - s + step - 1) / step : 0;
        if (len == 0) {
            throw new IllegalArgumentException(op + ": [" + start + ":" + end + ":" + step + "] along axis " + axis
                    + " of " + x.shape() + " is empty; jnorm has no empty tensors");
        }
        Tensor y = Tensor.zeros(x.shape().withDim(a, len), x.dtype(), x.device());
        x.backend().shapes().slice(x, a, s, step, y);
        return Autograd.record(op, y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().shapes().sliceScatter(gy, a, s, step, gx);
            return new Tensor[] {gx};
        }, x);
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n, i));
    }
}
