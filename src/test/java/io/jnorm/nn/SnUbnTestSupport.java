package io.jnorm.nn;

import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;

/** Data helpers shared by the SN, UBN and micro-batch tests (comparison: io.jnorm.testing.Close). */
public final class SnUbnTestSupport {
    private SnUbnTestSupport() {
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
