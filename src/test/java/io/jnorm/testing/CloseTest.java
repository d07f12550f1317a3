package io.jnorm.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CloseTest {

    @Test
    void passesWithinToleranceAndMatchingNanOrInfinity() {
        double inf = Double.POSITIVE_INFINITY;
        Close.assertClose("ok", new double[] {1, Double.NaN, inf, -2}, new double[] {1 + 1e-9, Double.NaN, inf, -2},
                1e-8, 0);
        Close.assertClose("relative", new double[] {1000}, new double[] {1000.5}, 0, 1e-3);
    }

    @Test
    void failureNamesTheWorstElementTheCountAndTheMaximumDifference() {
        AssertionError e = assertThrows(AssertionError.class, () -> Close.assertClose("what",
                new double[] {0, 1, 2, 3}, new double[] {0, 1.5, 2, 2}, 0.1, 0));
        assertTrue(e.getMessage().startsWith("what: 2 of 4 elements differ; worst at flat index 3")
                && e.getMessage().contains("max |diff| 1.00"), e.getMessage());
    }

    @Test
    void nanAgainstANumberAndOppositeInfinitiesAndLengthsFail() {
        double inf = Double.POSITIVE_INFINITY;
        assertThrows(AssertionError.class, () -> Close.assertClose("nan", new double[] {1}, new double[] {Double.NaN},
                1, 1));
        assertThrows(AssertionError.class, () -> Close.assertClose("nan", new double[] {Double.NaN}, new double[] {1},
                1, 1));
        assertThrows(AssertionError.class, () -> Close.assertClose("inf", new double[] {inf}, new double[] {-inf}, 1, 1));
        assertThrows(AssertionError.class, () -> Close.assertClose("inf", new double[] {inf}, new double[] {1e308}, 1, 1));
        AssertionError e = assertThrows(AssertionError.class, () -> Close.assertClose("len", new double[2],
                new double[3], 1, 1));
        assertTrue(e.getMessage().contains("3 values, expected 2"), e.getMessage());
    }
}
