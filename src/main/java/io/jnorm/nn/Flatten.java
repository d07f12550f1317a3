package io.jnorm.nn;

import io.jnorm.ops.Ops;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;

/**
 * Merges the axes {@code startDim..endDim} (inclusive, negative counts from the end) into one,
 * as {@code torch.nn.Flatten}; the default (1, -1) turns [N, C, H, W] into [N, C*H*W]. Shares
 * the input's memory (a reshape of contiguous storage).
 */
public final class Flatten extends Module {
    private final int startDim;
    private final int endDim;

    /** Flattens every axis after the batch axis. */
    public Flatten() {
        this(1, -1);
    }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public Tensor forward(Tensor x) {
        int r = x.rank();
        if (r == 0) {
            throw new IllegalArgumentException("Flatten: input must have rank >= 1, got a scalar");
        }
        int s = Shape.normalizeAxis(startDim, r, "Flatten(startDim)");
        int e = Shape.normalizeAxis(endDim, r, "Flatten(endDim)");
        if (s > e) {
            throw new IllegalArgumentException("Flatten: startDim " + startDim + " comes after endDim " + endDim
                    + " for input " + x.shape());
        }
        int[] d = x.shape().dims();
        int[] out = new int[r - (e - s)];
        int k = 0;
        for (int i = 0; i < s; i++) {
            out[k++] = d[i];
        }
        out[k++] = Math.toIntExact(x.shape().numel(s, e + 1));
        for (int i = e + 1; i < r; i++) {
            out[k++] = d[i];
        }
        return Ops.reshape(x, out);
    }

    @Override
    protected String extraRepr() {
        return "startDim=" + startDim + ", endDim=" + endDim;
    }
}
