package io.jnorm.nn;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** Comparison and data helpers shared by the SN, UBN and micro-batch tests. */
public final class SnUbnTestSupport {
    private SnUbnTestSupport() {
    }

    /**
     * Asserts |actual - expected| <= atol + rtol·|expected| element by element; the failure
     * message names the worst element, both values and the maximum difference.
     */
    public static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int worst = -1;
        double worstExcess = 0;
        double maxDiff = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(actual[i] - expected[i]);
            if (Double.isNaN(actual[i]) != Double.isNaN(expected[i])) {
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
            throw new AssertionError(String.format("%s: worst element %d: actual %.17g, expected %.17g; "
                            + "max |diff| %.3g > atol %.1g + rtol %.1g·|expected|",
                    what, worst, actual[worst], expected[worst], maxDiff, atol, rtol));
        }
    }

    public static void assertClose(String what, double[] expected, Tensor actual, double atol, double rtol) {
        assertClose(what, expected, actual.toDoubleArray(), atol, rtol);
    }

    /** Seeded values with a per-channel offset and scale, so BN, LN and IN statistics all differ. */
    public static double[] data(long seed, int n, int c, int h, int w) {
        Rng rng = new Rng(seed);
        double[] v = new double[n * c * h * w];
        for (int i = 0; i < v.length; i++) {
            int ch = (i / (h * w)) % c;
            v[i] = 0.3 * ch - 0.5 + (1 + 0.25 * ch) * rng.nextGaussian();
        }
        return v;
    }

    public static Tensor tensor(double[] v, DType dtype, int... dims) {
        return Tensor.fromDoubles(v, Shape.of(dims), dtype, Device.CPU);
    }

    public static double[] seq(long seed, int size, double scale) {
        Rng rng = new Rng(seed);
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = scale * rng.nextGaussian();
        }
        return v;
    }

    public static String dims(int... d) {
        return Arrays.toString(d);
    }
}
