package io.jnorm.ops.norm;

import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** Elementwise closeness |actual − expected| <= atol + rtol·|expected|, reporting the worst element. */
public final class Close {
    private Close() {
    }

    public static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": length " + actual.length + " != expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(diff) && !(Double.isNaN(actual[i]) && Double.isNaN(expected[i]))) {
                diff = Double.POSITIVE_INFINITY;
            } else if (Double.isNaN(diff)) {
                diff = 0;
            }
            maxDiff = Math.max(maxDiff, diff);
            double excess = diff - (atol + rtol * Math.abs(expected[i]));
            if (excess > 0 && (worst < 0 || excess > worstExcess)) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            throw new AssertionError(String.format("%s: worst element %d: actual %.17g, expected %.17g "
                    + "(max |diff| %.3g, atol %.1g, rtol %.1g); expected head %s", what, worst, actual[worst],
                    expected[worst], maxDiff, atol, rtol,
                    Arrays.toString(Arrays.copyOf(expected, Math.min(6, expected.length)))));
        }
    }

    public static void assertClose(String what, double[] expected, Tensor actual, double atol, double rtol) {
        assertClose(what, expected, actual.toDoubleArray(), atol, rtol);
    }

    /** Tolerances for a result computed in {@code dtype} against a float64 reference. */
    public static double atol(Tensor t) {
        return t.dtype() == io.jnorm.tensor.DType.F32 ? 1e-5 : 1e-12;
    }

    public static double rtol(Tensor t) {
        return t.dtype() == io.jnorm.tensor.DType.F32 ? 1e-5 : 1e-11;
    }
}
