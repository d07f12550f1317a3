package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;

/**
 * Element-wise comparison with |actual − expected| ≤ atol + rtol·|expected|; NaN must meet NaN.
 * Failures name the worst element and the maximum difference.
 */
final class Close {
    private Close() {
    }

    static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " values, expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        double maxDiff = 0;
        int failures = 0;
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double a = actual[i];
            if (Double.isNaN(e) || Double.isNaN(a)) {
                if (Double.isNaN(e) != Double.isNaN(a)) {
                    failures++;
                    if (worstExcess != Double.POSITIVE_INFINITY) {
                        worst = i;
                        worstExcess = Double.POSITIVE_INFINITY;
                    }
                }
                continue;
            }
            double d = Math.abs(a - e);
            maxDiff = Math.max(maxDiff, d);
            double excess = d - (atol + rtol * Math.abs(e));
            if (excess > 0) {
                failures++;
                if (excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (failures > 0) {
            fail(String.format("%s: %d of %d elements differ; worst at flat index %d: actual %.17g, expected %.17g; "
                            + "max |diff| %.3g (atol %.1g, rtol %.1g); first values actual %s expected %s",
                    what, failures, expected.length, worst, actual[worst], expected[worst], maxDiff, atol, rtol,
                    head(actual), head(expected)));
        }
    }

    private static String head(double[] v) {
        return Arrays.toString(Arrays.copyOf(v, Math.min(4, v.length)));
    }
}
