package io.jnorm.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/** Elementwise comparison |got - ref| <= atol + rtol * |ref| whose failure shows the worst element. */
public final class Close {
    private Close() {
    }

    public static void assertClose(double[] ref, double[] got, double atol, double rtol, String what) {
        assertEquals(ref.length, got.length, what + ": length");
        int worst = -1;
        double worstExcess = 0;
        double maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            double d = Math.abs(got[i] - ref[i]);
            if (Double.isNaN(d)) {
                d = Double.POSITIVE_INFINITY;
            }
            maxDiff = Math.max(maxDiff, d);
            double excess = d - (atol + rtol * Math.abs(ref[i]));
            if (excess > 0 && (worst < 0 || excess > worstExcess)) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            fail(what + ": worst element " + worst + ": got " + got[worst] + ", reference " + ref[worst]
                    + " (max |difference| " + maxDiff + ", atol " + atol + ", rtol " + rtol + ")");
        }
    }
}
