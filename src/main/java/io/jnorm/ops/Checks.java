package io.jnorm.ops;

import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** Input validation shared by ops; every message names the op, the argument and the shapes. */
public final class Checks {
    private Checks() {
    }

    /** Same device and dtype for every tensor of an op. */
    public static void sameDeviceAndDtype(String op, Tensor first, Tensor... others) {
        for (Tensor t : others) {
            if (t == null) {
                continue;
            }
            if (!t.device().equals(first.device())) {
                throw new IllegalArgumentException(op + ": tensors on different devices: " + first.shape()
                        + " on " + first.device() + " and " + t.shape() + " on " + t.device());
            }
            if (t.dtype() != first.dtype()) {
                throw new IllegalArgumentException(op + ": dtype mismatch: " + first.shape() + " is "
                        + first.dtype() + " but " + t.shape() + " is " + t.dtype());
            }
        }
    }

    /**
     * The argument {@code arg} must be on the input's device and of its dtype; null passes. The
     * message names the op, the argument, both shapes, dtypes and devices.
     */
    public static void sameDeviceAndDtypeAs(String op, String arg, Tensor t, Tensor input) {
        if (t != null && (!t.device().equals(input.device()) || t.dtype() != input.dtype())) {
            throw new IllegalArgumentException(op + ": dtype/device mismatch: " + arg + " " + t.shape() + " is "
                    + t.dtype() + " on "
                    + t.device() + " but input " + input.shape() + " is " + input.dtype() + " on " + input.device());
        }
    }

    public static void rank(String op, String arg, Tensor t, int expected) {
        if (t.rank() != expected) {
            throw new IllegalArgumentException(op + ": " + arg + " must have rank " + expected + ", got shape "
                    + t.shape());
        }
    }

    public static void shape(String op, String arg, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": " + arg + " must have shape " + expected + ", got "
                    + t.shape());
        }
    }

    public static void finite(String op, String arg, double v) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException(op + ": " + arg + " must be finite, got " + v);
        }
    }

    public static void positive(String op, String arg, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(op + ": " + arg + " must be positive, got " + v);
        }
    }

    /** Normalizes a list of axes; rejects duplicates and out-of-range values. */
    public static boolean[] axesMask(String op, int rank, int... axes) {
        boolean[] mask = new boolean[rank];
        for (int a : axes) {
            int n = Shape.normalizeAxis(a, rank, op);
            if (mask[n]) {
                throw new IllegalArgumentException(op + ": axis " + a + " repeated in " + Arrays.toString(axes));
            }
            mask[n] = true;
        }
        return mask;
    }

    /** A per-axis pair (height, width); a single value applies to both axes. */
    public static int[] pair(String op, String arg, int[] v) {
        if (v == null || (v.length != 1 && v.length != 2)) {
            throw new IllegalArgumentException(op + ": " + arg + " must have 1 or 2 values (height, width), got "
                    + Arrays.toString(v));
        }
        return v.length == 2 ? v.clone() : new int[] {v[0], v[0]};
    }
}
