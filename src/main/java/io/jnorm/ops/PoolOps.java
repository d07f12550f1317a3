package io.jnorm.ops;

import io.jnorm.autograd.Autograd;
import io.jnorm.backend.Pool2dSpec;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** 2-D max and average pooling over NCHW tensors. */
final class PoolOps {
    private PoolOps() {
    }

    static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        String op = "max_pool2d";
        Pool2dSpec s = spec(op, x, kernel, stride, padding);
        Tensor y = Tensor.zeros(outputShape(op, x, s), x.dtype(), x.device());
        x.backend().pool().maxPool2dForward(x, s, y);
        return Autograd.record(op, y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().pool().maxPool2dBackward(x, gy, s, gx);
            return new Tensor[] {gx};
        }, x);
    }

    static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        String op = "avg_pool2d";
        Pool2dSpec s = spec(op, x, kernel, stride, padding);
        Tensor y = Tensor.zeros(outputShape(op, x, s), x.dtype(), x.device());
        x.backend().pool().avgPool2dForward(x, s, y);
        return Autograd.record(op, y, (gy, needs) -> {
            Tensor gx = Tensor.zeros(x.shape(), x.dtype(), x.device());
            x.backend().pool().avgPool2dBackward(gy, s, gx);
            return new Tensor[] {gx};
        }, x);
    }

    private static Pool2dSpec spec(String op, Tensor x, int[] kernel, int[] stride, int[] padding) {
        Checks.rank(op, "input", x, 4);
        int[] k = Checks.pair(op, "kernel", kernel);
        int[] st = stride == null ? k : Checks.pair(op, "stride", stride);
        int[] p = Checks.pair(op, "padding", padding);
        for (int i = 0; i < 2; i++) {
            if (k[i] <= 0) {
                throw new IllegalArgumentException(op + ": kernel must be positive, got " + Arrays.toString(kernel));
            }
            if (st[i] <= 0) {
                throw new IllegalArgumentException(op + ": stride must be positive, got " + Arrays.toString(stride));
            }
            if (p[i] < 0) {
                throw new IllegalArgumentException(op + ": padding must be non-negative, got "
                        + Arrays.toString(padding));
            }
            // As PyTorch: a window then always covers at least one real pixel.
            if (p[i] > k[i] / 2) {
                throw new IllegalArgumentException(op + ": padding " + Arrays.toString(padding)
                        + " must be at most half the kernel " + Arrays.toString(kernel));
            }
        }
        return new Pool2dSpec(k[0], k[1], st[0], st[1], p[0], p[1]);
    }

    private static Shape outputShape(String op, Tensor x, Pool2dSpec s) {
        int oh = s.outH(x.dim(2));
        int ow = s.outW(x.dim(3));
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException(op + ": output size " + oh + "x" + ow + " is not positive for input "
                    + x.shape() + ", kernel [" + s.kernelH() + ", " + s.kernelW() + "], padding [" + s.padH() + ", "
                    + s.padW() + "]: the window is larger than the padded input");
        }
        return Shape.of(x.dim(0), x.dim(1), oh, ow);
    }
}
