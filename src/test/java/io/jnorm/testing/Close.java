package io.jnorm.testing;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/**
 * Element-wise closeness for tests: |actual − expected| ≤ atol + rtol·|expected|, where a NaN
 * must meet a NaN and an infinity the same infinity. A failure names the worst element with
 * both values, how many elements fail, the maximum difference and the first values of each side.
 */
public final class Close {
    private Close() {
    }

    public static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        double maxDiff = 0;
        int failures = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if ((Double.isNaN(e) && Double.isNaN(a)) || (Double.isInfinite(e) && a == e)) {
                continue;
            }
            double diff = Math.abs(a - e);
            if (Double.isNaN(diff)) {
                diff = Double.POSITIVE_INFINITY;
            }
            maxDiff = Math.max(maxDiff, diff);
            double excess = diff - (atol + rtol * Math.abs(e));
            if (excess > 0 || Double.isNaN(excess)) {
                failures++;
                if (worst < 0 || excess > worstExcess || Double.isNaN(excess)) {
                    worst = i;
                    worstExcess = Double.isNaN(excess) ? Double.POSITIVE_INFINITY : excess;
                }
            }
        }
        if (failures > 0) {
            throw new AssertionError(String.format("%s: %d of %d elements differ; worst at flat index %d: actual %.17g,"
                            + " expected %.17g; max |diff| %.3g (atol %.1g, rtol %.1g); first values actual %s"
                            + " expected %s", what, failures, expected.length, worst, actual[worst], expected[worst],
                    maxDiff, atol, rtol, head(actual), head(expected)));
        }
    }

    public static void assertClose(String what, double[] expected, Tensor actual, double atol, double rtol) {
        assertClose(what, expected, actual.toDoubleArray(), atol, rtol);
    }

    /** Absolute tolerance for a result computed in {@code t}'s dtype against a float64 reference. */
    public static double atol(Tensor t) {
        return t.dtype() == DType.F32 ? 1e-5 : 1e-12;
    }

    /** Relative tolerance for a result computed in {@code t}'s dtype against a float64 reference. */
    public static double rtol(Tensor t) {
        return t.dtype() == DType.F32 ? 1e-5 : 1e-11;
    }

    private static String head(double[] v) {
        return Arrays.toString(Arrays.copyOf(v, Math.min(6, v.length)));
    }
}
