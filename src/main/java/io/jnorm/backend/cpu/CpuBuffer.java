package io.jnorm.backend.cpu;

import io.jnorm.tensor.Buffer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Tensor;

/**
 * Host memory of a CPU tensor: a float[] for F32, a double[] for F64. The reference kernels
 * read everything as doubles and round once when they store, so float32 results are the
 * correctly rounded float64 results.
 */
public final class CpuBuffer extends Buffer {
    private float[] f32;
    private double[] f64;

    CpuBuffer(DType dtype, int numel) {
        super(Device.CPU, dtype, numel);
        if (dtype == DType.F32) {
            f32 = new float[numel];
        } else {
            f64 = new double[numel];
        }
    }

    @Override
    protected void freeMemory() {
        f32 = null;
        f64 = null;
    }

    public double get(int i) {
        return f64 != null ? f64[i] : f32[i];
    }

    public void set(int i, double v) {
        if (f64 != null) {
            f64[i] = v;
        } else {
            f32[i] = (float) v;
        }
    }

    /** A copy of every value as a double. */
    public double[] toDoubles() {
        if (f64 != null) {
            return f64.clone();
        }
        double[] d = new double[f32.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = f32[i];
        }
        return d;
    }

    /** Stores every value, rounding to the buffer's dtype. */
    public void setAll(double[] v) {
        if (f64 != null) {
            System.arraycopy(v, 0, f64, 0, v.length);
        } else {
            for (int i = 0; i < v.length; i++) {
                f32[i] = (float) v[i];
            }
        }
    }

    /** The CPU buffer of a tensor. */
    public static CpuBuffer of(Tensor t) {
        return (CpuBuffer) t.buffer();
    }

    /** Shorthand for the reference kernels: a tensor's values as doubles. */
    public static double[] read(Tensor t) {
        return of(t).toDoubles();
    }

    /** Shorthand for the reference kernels: stores values into a tensor. */
    public static void write(Tensor t, double[] v) {
        of(t).setAll(v);
    }
}
