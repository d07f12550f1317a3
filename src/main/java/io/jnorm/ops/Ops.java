package io.jnorm.ops;

import io.jnorm.backend.BinaryOp;
import io.jnorm.backend.UnaryOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * Every differentiable op, one entry point each. Each op validates its inputs (naming itself,
 * the argument and the shapes), asks the backend of the tensors' device for the kernel, and
 * records one autograd node whose backward uses the same backend.
 */
public final class Ops {
    private Ops() {
    }

    // ------------------------------------------------------------ elementwise

    public static Tensor add(Tensor a, Tensor b) {
        return ElementwiseOps.binary(BinaryOp.ADD, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        return ElementwiseOps.binary(BinaryOp.SUB, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        return ElementwiseOps.binary(BinaryOp.MUL, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        return ElementwiseOps.binary(BinaryOp.DIV, a, b);
    }

    public static Tensor neg(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.NEG, x);
    }

    public static Tensor exp(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.EXP, x);
    }

    public static Tensor log(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.LOG, x);
    }

    public static Tensor sqrt(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.SQRT, x);
    }

    public static Tensor relu(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.RELU, x);
    }

    public static Tensor sigmoid(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.SIGMOID, x);
    }

    public static Tensor tanh(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.TANH, x);
    }

    public static Tensor abs(Tensor x) {
        return ElementwiseOps.unary(UnaryOp.ABS, x);
    }

    /** x raised to a finite scalar power. */
    public static Tensor pow(Tensor x, double p) {
        return ElementwiseOps.pow(x, p);
    }

    // ------------------------------------------------------------ reductions

    /** Sum of every element, a 0-d tensor. */
    public static Tensor sum(Tensor x) {
        boolean[] all = new boolean[x.rank()];
        Arrays.fill(all, true);
        return ReductionOps.sum(x, all, false);
    }

    /** Sum over the given axes (negative axes count from the end). */
    public static Tensor sum(Tensor x, int[] axes, boolean keepDim) {
        return ReductionOps.sum(x, Checks.axesMask("sum", x.rank(), axes), keepDim);
    }

    /** Mean of every element, a 0-d tensor. */
    public static Tensor mean(Tensor x) {
        boolean[] all = new boolean[x.rank()];
        Arrays.fill(all, true);
        return ReductionOps.mean(x, all, false);
    }

    /** Mean over the given axes (negative axes count from the end). */
    public static Tensor mean(Tensor x, int[] axes, boolean keepDim) {
        return ReductionOps.mean(x, Checks.axesMask("mean", x.rank(), axes), keepDim);
    }

    /**
     * Variance over the given axes: sum((x - mean)^2) / (n - 1) when {@code unbiased}, else / n.
     * As in PyTorch, the unbiased variance of a single element is NaN (0 / 0), and so is its
     * gradient; no exception is thrown, because a batch of one is legal input.
     */
    public static Tensor var(Tensor x, int[] axes, boolean unbiased, boolean keepDim) {
        return ReductionOps.var(x, Checks.axesMask("var", x.rank(), axes), unbiased ? 1 : 0, keepDim);
    }

    /** Variance of every element, a 0-d tensor; see {@link #var(Tensor, int[], boolean, boolean)}. */
    public static Tensor var(Tensor x, boolean unbiased) {
        boolean[] all = new boolean[x.rank()];
        Arrays.fill(all, true);
        return ReductionOps.var(x, all, unbiased ? 1 : 0, false);
    }

    /** Sums a broadcast tensor back down to {@code shape} (the adjoint of broadcasting). */
    public static Tensor sumTo(Tensor x, Shape shape) {
        Shape.broadcast(x.shape(), shape, "sumTo");
        return ReductionOps.sumTo(x, shape);
    }

    // ------------------------------------------------------------ shapes

    /** Same elements in another shape; one dimension may be -1. */
    public static Tensor reshape(Tensor x, int... dims) {
        return ShapeOps.reshape(x, ShapeOps.inferShape(x.numel(), dims));
    }

    public static Tensor reshape(Tensor x, Shape shape) {
        return ShapeOps.reshape(x, shape);
    }

    /**
     * Merges the axes from {@code startAxis} (negative counts from the end) to the last into
     * one, sharing memory: [N, C, H, W] with startAxis 1 gives [N, C*H*W].
     */
    public static Tensor flatten(Tensor x, int startAxis) {
        return ShapeOps.flatten(x, startAxis);
    }

    /**
     * Broadcasts x to {@code shape} (NumPy rules: size-1 axes stretch, missing leading axes are
     * added), materialized in new memory (x itself when it already has that shape); the gradient
     * sums back to x's shape.
     */
    public static Tensor expand(Tensor x, Shape shape) {
        return ShapeOps.expand(x, shape);
    }

    /**
     * A copy with axes reordered: output axis i is input axis perm[i] (negative axes count from
     * the end), as NumPy's {@code transpose(x, perm)}.
     */
    public static Tensor permute(Tensor x, int... perm) {
        return ShapeOps.permute(x, perm);
    }

    /** Joins tensors of one dtype and device along an existing axis; other axes must agree. */
    public static Tensor concat(int axis, Tensor... xs) {
        return ShapeOps.concat(xs == null ? null : Arrays.asList(xs), axis);
    }

    /** Joins a list of tensors along an existing axis; see {@link #concat(int, Tensor...)}. */
    public static Tensor concat(List<Tensor> xs, int axis) {
        return ShapeOps.concat(xs, axis);
    }

    /**
     * Python slicing {@code x[..., start:end:step, ...]} along one axis, copied: step must be
     * positive, negative bounds count from the end, out-of-range bounds are clamped, and an
     * empty result is rejected (jnorm has no empty tensors).
     */
    public static Tensor slice(Tensor x, int axis, int start, int end, int step) {
        return ShapeOps.slice(x, axis, start, end, step);
    }

    // ------------------------------------------------------------ convolution

    /**
     * 2-D convolution (cross-correlation, as PyTorch's {@code conv2d}).
     *
     * @param x        input [N, C, H, W]
     * @param w        weight [O, C / groups, KH, KW]
     * @param bias     [O], or null for none
     * @param stride   (height, width), or one value for both; positive
     * @param padding  zero padding (height, width), or one value for both; non-negative
     * @param dilation (height, width), or one value for both; positive
     * @param groups   C and O must both be divisible by it
     * @return [N, O, OH, OW] with OH = floor((H + 2 padH - dilationH (KH - 1) - 1) / strideH) + 1
     * @throws IllegalArgumentException naming the argument and the shapes when the geometry is invalid
     */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                int groups) {
        return ConvOps.conv2d(x, w, bias, stride, padding, dilation, groups);
    }

    /**
     * Weight-standardized 2-D convolution: {@code conv2d(x, weightStandardize(w, epsIn, epsOut,
     * unbiased), bias, ...)} as one op, so a GPU backend can standardize the weight while its
     * convolution stages it (spec-ws-bcn-sn.md §1; gradients flow through the statistics).
     *
     * @throws IllegalArgumentException for an invalid geometry (as {@link #conv2d}) or WS variant
     *                                  (as {@code WeightStandardization.weightStandardize})
     */
    public static Tensor wsConv2d(Tensor x, Tensor w, Tensor bias, int[] stride, int[] padding, int[] dilation,
                                  int groups, double epsIn, double epsOut, boolean unbiased) {
        return ConvOps.wsConv2d(x, w, bias, stride, padding, dilation, groups, epsIn, epsOut, unbiased);
    }

    /** 2-D convolution with the same stride and padding on both axes, no dilation, one group. */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor bias, int stride, int padding) {
        return ConvOps.conv2d(x, w, bias, new int[] {stride}, new int[] {padding}, new int[] {1}, 1);
    }

    // ------------------------------------------------------------ pooling

    /**
     * 2-D max pooling of x [N, C, H, W] (floor mode, as PyTorch's {@code max_pool2d}).
     * Padding never wins a window; the gradient goes to each window's first maximum.
     *
     * @param kernel  window (height, width) or one value for both
     * @param stride  (height, width), one value for both, or null for the kernel size
     * @param padding (height, width) or one value; at most half the kernel
     * @return [N, C, OH, OW] with OH = floor((H + 2 padH - kernelH) / strideH) + 1
     */
    public static Tensor maxPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        return PoolOps.maxPool2d(x, kernel, stride, padding);
    }

    /** Max pooling with a square window, the same stride on both axes and symmetric padding. */
    public static Tensor maxPool2d(Tensor x, int kernel, int stride, int padding) {
        return PoolOps.maxPool2d(x, new int[] {kernel}, new int[] {stride}, new int[] {padding});
    }

    /**
     * 2-D average pooling of x [N, C, H, W]; padded zeros count in the divisor (PyTorch's
     * default {@code count_include_pad=True}), so every window divides by kernelH * kernelW.
     * Arguments as {@link #maxPool2d(Tensor, int[], int[], int[])}.
     */
    public static Tensor avgPool2d(Tensor x, int[] kernel, int[] stride, int[] padding) {
        return PoolOps.avgPool2d(x, kernel, stride, padding);
    }

    /** Average pooling with a square window, the same stride on both axes and symmetric padding. */
    public static Tensor avgPool2d(Tensor x, int kernel, int stride, int padding) {
        return PoolOps.avgPool2d(x, new int[] {kernel}, new int[] {stride}, new int[] {padding});
    }

    // ------------------------------------------------------------ linear algebra

    /**
     * Matrix product a[..., M, K] @ b[..., K, N] -> [..., M, N]; batch axes (all but the last
     * two) broadcast NumPy style. Both operands need rank >= 2 (vectors are rejected: reshape
     * them to a row or a column first).
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        return LinalgOps.matmul(a, b);
    }

    /**
     * Affine map y = x W^T + b over the last axis, as PyTorch's {@code linear}.
     *
     * @param x    [..., in] (rank >= 1)
     * @param w    [out, in]
     * @param bias [out], or null for none
     * @return [..., out]
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        return LinalgOps.linear(x, w, bias);
    }

    // ------------------------------------------------------------ softmax and losses

    /** x - log(sum(exp(x))) along an axis (negative counts from the end), computed stably. */
    public static Tensor logSoftmax(Tensor x, int axis) {
        return LossOps.logSoftmax(x, axis);
    }

    /**
     * Mean cross entropy over the batch: -mean_n log_softmax(logits)[n, targets[n]].
     *
     * @param logits  [N, K]
     * @param targets N class indices in [0, K)
     * @return a 0-d tensor
     * @throws IllegalArgumentException naming the index and value of an out-of-range target
     */
    public static Tensor crossEntropy(Tensor logits, int[] targets) {
        return LossOps.crossEntropy(logits, targets);
    }

    /**
     * Mean cross entropy with class indices held in an integer-valued tensor [N] on the logits'
     * device (any floating dtype); see {@link #crossEntropy(Tensor, int[])}.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor targets) {
        return LossOps.crossEntropy(logits, targets);
    }

    // ------------------------------------------------------------ creation and transfer

    /** A 0-d tensor of x's dtype and device. */
    public static Tensor scalarLike(Tensor x, double v) {
        return Tensor.scalar(v, x.dtype(), x.device());
    }

    public static Tensor onesLike(Tensor x) {
        return Tensor.full(1.0, x.shape(), x.dtype(), x.device());
    }

    public static Tensor zerosLike(Tensor x, Shape shape) {
        return Tensor.zeros(shape, x.dtype(), x.device());
    }

    /** A differentiable copy with its own memory. */
    public static Tensor copy(Tensor x) {
        return TransferOps.copy(x);
    }

    public static Tensor cast(Tensor x, DType dtype) {
        return TransferOps.cast(x, dtype);
    }

    public static Tensor toDevice(Tensor x, Device device) {
        return TransferOps.toDevice(x, device);
    }
}
