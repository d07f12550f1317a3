package io.jnorm.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import io.jnorm.testing.Close;
import java.util.Arrays;
import org.junit.jupiter.api.function.Executable;

/** Helpers shared by the op tests: random inputs, tolerant comparison, error-message checks. */
final class OpTestSupport {
    private OpTestSupport() {
    }

    /** Standard normal values of a dtype on the CPU. */
    static Tensor randn(Rng rng, DType dtype, int... dims) {
        return Tensor.randn(rng, Shape.of(dims), dtype, Device.CPU);
    }

    /** Standard normal float64 leaf that requires grad (for gradcheck). */
    static Tensor leaf(Rng rng, int... dims) {
        return randn(rng, DType.F64, dims).requiresGrad(true);
    }

    /** Absolute tolerance of a forward check in a dtype (relative tolerance is the same). */
    static double tol(DType dtype) {
        // The reference backend rounds a float64 result once, so float32 agrees to about an ulp.
        return dtype == DType.F32 ? 2e-6 : 1e-11;
    }

    /**
     * Asserts |actual - expected| <= atol + rtol * |expected| everywhere; the failure names the
     * worst element and the largest difference.
     */
    static void assertClose(double[] expected, double[] actual, double atol, double rtol, String what) {
        Close.assertClose(what, expected, actual, atol, rtol);
    }

    static void assertClose(double[] expected, Tensor actual, String what) {
        double t = tol(actual.dtype());
        assertClose(expected, actual.toDoubleArray(), t, t, what + " " + actual.dtype());
    }

    /** Asserts an IllegalArgumentException whose message contains every fragment. */
    static void assertRejects(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) {
            if (!e.getMessage().contains(f)) {
                throw new AssertionError("message \"" + e.getMessage() + "\" lacks \"" + f + "\"");
            }
        }
    }

    /** The row-major flat index of a multi-index. */
    static int flat(int[] dims, int... idx) {
        int f = 0;
        for (int a = 0; a < dims.length; a++) {
            f = f * dims[a] + idx[a];
        }
        return f;
    }

    static String dims(int... d) {
        return Arrays.toString(d);
    }
}
