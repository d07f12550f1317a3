package io.jnorm.tensor;

import io.jnorm.autograd.Autograd;
import io.jnorm.autograd.Node;
import io.jnorm.backend.Backend;
import io.jnorm.backend.Backends;
import io.jnorm.ops.Ops;
import java.util.Arrays;

/**
 * An n-dimensional array on a device, with optional gradient tracking.
 *
 * <p>Storage is contiguous row-major (NCHW for images). Every tensor is {@link AutoCloseable}:
 * closing it frees its memory (device memory on a GPU), and any later use is an
 * {@link IllegalStateException} naming the tensor's shape. A {@link Scope} closes what was made
 * inside it. Memory is freed only by a close: a tensor that is merely dropped keeps its device
 * memory (the garbage collector cannot free it; the cuda backend reports it as a leak), and that
 * includes the tensors autograd saved for backward, which {@link #backward()} does not free
 * (see {@link Scope}). Arithmetic lives in {@link Ops}; the instance methods here are shorthands.
 */
public final class Tensor implements AutoCloseable {
    private final Shape shape;
    private final DType dtype;
    private final Device device;
    private Buffer buffer;
    private boolean requiresGrad;
    private Tensor grad;
    private Node gradFn;
    Scope owner;

    private Tensor(Buffer buffer, Shape shape) {
        if (buffer.numel() != shape.numel()) {
            throw new IllegalArgumentException("Tensor: buffer of " + buffer.numel() + " elements for shape " + shape);
        }
        this.buffer = buffer;
        this.shape = shape;
        this.dtype = buffer.dtype();
        this.device = buffer.device();
        Scope.adopt(this);
    }

    // ---------------------------------------------------------------- creation

    /** Wraps a fresh buffer (backends and ops use this for their outputs). */
    public static Tensor wrap(Buffer buffer, Shape shape) {
        return new Tensor(buffer, shape);
    }

    /** A new tensor sharing this one's memory with another shape of the same size (reshape). */
    public Tensor sharing(Shape newShape) {
        Buffer b = buffer();
        b.retain();
        return new Tensor(b, newShape);
    }

    public static Tensor zeros(Shape shape, DType dtype, Device device) {
        return new Tensor(Backends.of(device).allocate(dtype, shape.numel()), shape);
    }

    public static Tensor zeros(DType dtype, int... dims) {
        return zeros(Shape.of(dims), dtype, Device.CPU);
    }

    public static Tensor ones(DType dtype, int... dims) {
        return full(1.0, Shape.of(dims), dtype, Device.CPU);
    }

    public static Tensor full(double value, Shape shape, DType dtype, Device device) {
        double[] v = new double[checkedNumel(shape, "full")];
        Arrays.fill(v, value);
        return fromDoubles(v, shape, dtype, device);
    }

    /** A 0-d tensor holding one value. */
    public static Tensor scalar(double value, DType dtype, Device device) {
        return fromDoubles(new double[] {value}, Shape.scalar(), dtype, device);
    }

    /** 0, 1, ..., n-1. */
    public static Tensor arange(int n, DType dtype) {
        if (n <= 0) {
            throw new IllegalArgumentException("arange: n must be positive, got " + n);
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i;
        }
        return fromDoubles(v, Shape.of(n), dtype, Device.CPU);
    }

    /** Standard normal values from a seeded generator. */
    public static Tensor randn(Rng rng, Shape shape, DType dtype, Device device) {
        double[] v = new double[checkedNumel(shape, "randn")];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        return fromDoubles(v, shape, dtype, device);
    }

    public static Tensor randn(Rng rng, DType dtype, int... dims) {
        return randn(rng, Shape.of(dims), dtype, Device.CPU);
    }

    /**
     * Uniform values in [low, high) from a seeded generator.
     *
     * @throws IllegalArgumentException when a bound is not finite or low &gt; high
     */
    public static Tensor rand(Rng rng, double low, double high, Shape shape, DType dtype, Device device) {
        if (!Double.isFinite(low) || !Double.isFinite(high) || low > high) {
            throw new IllegalArgumentException("rand: bounds must be finite with low <= high, got [" + low + ", "
                    + high + ") for shape " + shape);
        }
        double[] v = new double[checkedNumel(shape, "rand")];
        for (int i = 0; i < v.length; i++) {
            v[i] = low + (high - low) * rng.nextUniform();
        }
        return fromDoubles(v, shape, dtype, device);
    }

    /** Copies a Java array (rounded to {@code dtype}). */
    public static Tensor fromDoubles(double[] values, Shape shape, DType dtype, Device device) {
        if (values.length != shape.numel()) {
            throw new IllegalArgumentException("Tensor.fromDoubles: " + values.length
                    + " values for shape " + shape + " (" + shape.numel() + " elements)");
        }
        return new Tensor(Backends.of(device).fromHost(dtype, values), shape);
    }

    /** float64 tensor on the CPU from values in row-major order. */
    public static Tensor of(double[] values, int... dims) {
        return fromDoubles(values, Shape.of(dims), DType.F64, Device.CPU);
    }

    /** float32 tensor on the CPU from values in row-major order. */
    public static Tensor of(float[] values, int... dims) {
        double[] v = new double[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = values[i];
        }
        return fromDoubles(v, Shape.of(dims), DType.F32, Device.CPU);
    }

    private static int checkedNumel(Shape shape, String op) {
        if (shape.numel() > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": shape " + shape + " is too large for a host array");
        }
        return (int) shape.numel();
    }

    // ---------------------------------------------------------------- facts

    public Shape shape() {
        return shape;
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return device;
    }

    public long numel() {
        return shape.numel();
    }

    public int rank() {
        return shape.rank();
    }

    public int dim(int axis) {
        return shape.dim(axis);
    }

    /** The memory, checked for use after close. */
    public Buffer buffer() {
        Buffer b = buffer;
        if (b == null || b.isFreed()) {
            throw new IllegalStateException("tensor " + shape + " " + dtype + " on " + device
                    + " was freed (closed or its scope ended) and can no longer be used");
        }
        return b;
    }

    public Backend backend() {
        return Backends.of(device);
    }

    public boolean isClosed() {
        return buffer == null || buffer.isFreed();
    }

    // ---------------------------------------------------------------- read-back

    /** All values, row-major, as doubles (copied to the host). */
    public double[] toDoubleArray() {
        return backend().toHost(buffer());
    }

    public float[] toFloatArray() {
        double[] d = toDoubleArray();
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new IllegalArgumentException("item: tensor " + shape + " has " + numel() + " elements, not 1");
        }
        return toDoubleArray()[0];
    }

    /** One element by index (for tests and debugging; copies the tensor to the host). */
    public double get(int... index) {
        if (index.length != rank()) {
            throw new IllegalArgumentException("get: " + index.length + " indices for tensor " + shape);
        }
        long[] strides = shape.strides();
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape.dim(i)) {
                throw new IllegalArgumentException("get: index " + Arrays.toString(index) + " out of range for " + shape);
            }
            off += index[i] * strides[i];
        }
        return toDoubleArray()[(int) off];
    }

    // ---------------------------------------------------------------- devices and types

    /** A copy on another device (differentiable); this tensor itself when already there. */
    public Tensor to(Device target) {
        return Ops.toDevice(this, target);
    }

    /** A copy in another dtype (differentiable); this tensor itself when already of that type. */
    public Tensor to(DType target) {
        return Ops.cast(this, target);
    }

    // ---------------------------------------------------------------- autograd

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing its gradient; returns this tensor. */
    public Tensor requiresGrad(boolean flag) {
        if (gradFn != null && !flag) {
            throw new IllegalArgumentException("requiresGrad(false) on a non-leaf tensor " + shape
                    + "; use detach() instead");
        }
        this.requiresGrad = flag;
        return this;
    }

    /** The accumulated gradient of a leaf, or null before any backward pass. */
    public Tensor grad() {
        return grad;
    }

    /** Used by the autograd engine; the tensor owns (and closes) its gradient. */
    public void setGrad(Tensor g) {
        if (grad != null && grad != g) {
            grad.close();
        }
        grad = g == null ? null : Scope.escape(g);
    }

    /** Drops the accumulated gradient. */
    public void zeroGrad() {
        setGrad(null);
    }

    public Node gradFn() {
        return gradFn;
    }

    /** Used by ops when they record an autograd node. */
    public void setGradFn(Node node) {
        this.gradFn = node;
        this.requiresGrad = node != null || requiresGrad;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /** A tensor sharing this one's memory, cut from the graph. */
    public Tensor detach() {
        return sharing(shape);
    }

    /**
     * Back-propagates from a one-element tensor (gradient 1). The tensors the graph's ops saved
     * are released by the graph but freed only by the Scope they were made in (or by closing
     * them): on a GPU, call this inside a {@link Scope}.
     */
    public void backward() {
        Autograd.backward(this, null, false);
    }

    /** Back-propagates with an explicit upstream gradient of this tensor's shape. */
    public void backward(Tensor upstream) {
        Autograd.backward(this, upstream, false);
    }

    public void backward(Tensor upstream, boolean retainGraph) {
        Autograd.backward(this, upstream, retainGraph);
    }

    // ---------------------------------------------------------------- shorthands for Ops

    public Tensor add(Tensor o) {
        return Ops.add(this, o);
    }

    public Tensor sub(Tensor o) {
        return Ops.sub(this, o);
    }

    public Tensor mul(Tensor o) {
        return Ops.mul(this, o);
    }

    public Tensor div(Tensor o) {
        return Ops.div(this, o);
    }

    public Tensor add(double s) {
        return Ops.add(this, Ops.scalarLike(this, s));
    }

    public Tensor mul(double s) {
        return Ops.mul(this, Ops.scalarLike(this, s));
    }

    /** Matrix product, see {@link Ops#matmul}. */
    public Tensor matmul(Tensor o) {
        return Ops.matmul(this, o);
    }

    public Tensor neg() {
        return Ops.neg(this);
    }

    public Tensor sum() {
        return Ops.sum(this);
    }

    public Tensor reshape(int... dims) {
        return Ops.reshape(this, dims);
    }

    // ---------------------------------------------------------------- lifetime

    /** Frees this tensor's memory and its gradient's; idempotent. */
    @Override
    public void close() {
        Buffer b = buffer;
        if (b != null) {
            buffer = null;
            b.release();
        }
        if (grad != null) {
            grad.close();
            grad = null;
        }
        gradFn = null;
        if (owner != null) {
            Scope s = owner;
            owner = null;
            Scope.forget(s, this);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(shape).append(' ').append(dtype).append(' ').append(device);
        if (isClosed()) {
            return sb.append(" (freed)").toString();
        }
        if (requiresGrad) {
            sb.append(" requiresGrad");
        }
        double[] v = toDoubleArray();
        sb.append(" [");
        int shown = Math.min(v.length, 6);
        for (int i = 0; i < shown; i++) {
            sb.append(i > 0 ? ", " : "").append(String.format("%.6g", v[i]));
        }
        if (v.length > shown) {
            sb.append(", ...");
        }
        return sb.append(']').toString();
    }
}
