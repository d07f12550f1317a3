package io.jnorm.io;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/**
 * One array as stored in a .npy file: its NumPy dtype, its shape (rank 0 for a scalar) and its
 * values in C order. Floating values are held as doubles (float32 values exactly), integer and
 * boolean values as longs, so int64 data such as {@code num_batches_tracked} keeps every bit.
 * Immutable: accessors return copies.
 */
public final class NpyArray {
    /** Largest magnitude a double holds exactly: integers beyond it would silently change. */
    private static final long EXACT_DOUBLE_LIMIT = 1L << 53;

    private final NpyDType dtype;
    private final int[] shape;
    private final double[] doubles;
    private final long[] longs;

    private NpyArray(NpyDType dtype, int[] shape, double[] doubles, long[] longs) {
        this.dtype = dtype;
        this.shape = shape;
        this.doubles = doubles;
        this.longs = longs;
    }

    /**
     * A floating array; values are rounded to float32 when {@code dtype} is FLOAT32.
     *
     * @throws IllegalArgumentException when dtype is integral or the count does not match the shape
     */
    public static NpyArray ofDoubles(NpyDType dtype, int[] shape, double[] values) {
        if (dtype.isIntegral()) {
            throw new IllegalArgumentException("NpyArray.ofDoubles: dtype " + dtype.descr()
                    + " is integral; use ofLongs");
        }
        checkCount("NpyArray.ofDoubles", shape, values.length);
        double[] v = values.clone();
        if (dtype == NpyDType.FLOAT32) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) v[i];
            }
        }
        return new NpyArray(dtype, shape.clone(), v, null);
    }

    /**
     * An integer or boolean array.
     *
     * @throws IllegalArgumentException when dtype is floating, a value does not fit the dtype
     *                                  (int32 range, 0/1 for bool), or the count does not match
     */
    public static NpyArray ofLongs(NpyDType dtype, int[] shape, long[] values) {
        if (!dtype.isIntegral()) {
            throw new IllegalArgumentException("NpyArray.ofLongs: dtype " + dtype.descr()
                    + " is floating; use ofDoubles");
        }
        checkCount("NpyArray.ofLongs", shape, values.length);
        for (int i = 0; i < values.length; i++) {
            long v = values[i];
            boolean fits = switch (dtype) {
                case INT32 -> v == (int) v;
                case BOOL -> v == 0 || v == 1;
                default -> true;
            };
            if (!fits) {
                throw new IllegalArgumentException("NpyArray.ofLongs: value " + v + " at flat index " + i
                        + " does not fit dtype " + dtype.descr());
            }
        }
        return new NpyArray(dtype, shape.clone(), null, values.clone());
    }

    /** An int64 array. */
    public static NpyArray ofLongs(int[] shape, long[] values) {
        return ofLongs(NpyDType.INT64, shape, values);
    }

    /** A tensor's values (copied to the host) with its dtype and shape. */
    public static NpyArray of(Tensor t) {
        return new NpyArray(NpyDType.of(t.dtype()), t.shape().dims(), t.toDoubleArray(), null);
    }

    public NpyDType dtype() {
        return dtype;
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Number of elements (1 for a 0-d array, 0 when a dimension is 0). */
    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /**
     * The values as doubles. Integer values convert exactly or not at all.
     *
     * @throws IllegalArgumentException when an integer value exceeds 2^53 in magnitude
     */
    public double[] doubles() {
        if (doubles != null) {
            return doubles.clone();
        }
        double[] d = new double[longs.length];
        for (int i = 0; i < d.length; i++) {
            if (Math.abs(longs[i]) > EXACT_DOUBLE_LIMIT) {
                throw new IllegalArgumentException("NpyArray: " + dtype.descr() + " value " + longs[i]
                        + " at flat index " + i + " has no exact double; read it with longs()");
            }
            d[i] = longs[i];
        }
        return d;
    }

    /**
     * The values of an integer or boolean array.
     *
     * @throws IllegalArgumentException for a floating array (no silent truncation)
     */
    public long[] longs() {
        if (longs == null) {
            throw new IllegalArgumentException("NpyArray: a " + dtype.descr() + " array " + Arrays.toString(shape)
                    + " holds floating values, not integers");
        }
        return longs.clone();
    }

    /**
     * A CPU tensor: float32 stays float32, every other dtype becomes float64 (integers exactly).
     *
     * @throws IllegalArgumentException for a zero-sized array (tensor dimensions are positive)
     */
    public Tensor toTensor() {
        return toTensor(dtype == NpyDType.FLOAT32 ? DType.F32 : DType.F64);
    }

    /** A CPU tensor of the given dtype (values rounded to it). */
    public Tensor toTensor(DType target) {
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] <= 0) {
                throw new IllegalArgumentException("NpyArray.toTensor: shape " + Arrays.toString(shape)
                        + " has size " + shape[i] + " on axis " + i + "; jnorm tensors have positive dimensions");
            }
        }
        Shape s = shape.length == 0 ? Shape.scalar() : Shape.of(shape);
        return Tensor.fromDoubles(doubles(), s, target, Device.CPU);
    }

    /** Values for the encoder without a copy. */
    double[] rawDoubles() {
        return doubles;
    }

    long[] rawLongs() {
        return longs;
    }

    private static void checkCount(String op, int[] shape, int count) {
        long n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new IllegalArgumentException(op + ": negative size " + shape[i] + " on axis " + i
                        + " of shape " + Arrays.toString(shape));
            }
            n *= shape[i];
        }
        if (n != count) {
            throw new IllegalArgumentException(op + ": " + count + " values for shape " + Arrays.toString(shape)
                    + " (" + n + " elements)");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && a.dtype == dtype && Arrays.equals(a.shape, shape)
                && Arrays.equals(a.doubles, doubles) && Arrays.equals(a.longs, longs);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(doubles) + Arrays.hashCode(longs);
    }

    @Override
    public String toString() {
        return "NpyArray" + Arrays.toString(shape) + " " + dtype.descr();
    }
}
