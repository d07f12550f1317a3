package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jnorm.backend.NormKernels;
import io.jnorm.backend.NormLayout;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The NormKernels contract on the CPU reference, called directly as other layers and backends
 * will: layout indexing, two-pass variance precision, optional outputs, the running-statistic
 * average over instances, and the spec's corner values (one element per statistic, constant sets).
 */
class NormKernelsTest {
    private static final Device CPU = Device.CPU;

    private static NormKernels kernels() {
        return Tensor.zeros(DType.F64, 1).backend().norms();
    }

    private static Tensor zeros(int n) {
        return Tensor.zeros(Shape.of(n), DType.F64, CPU);
    }

    @Test
    void layoutIndexing() {
        NormLayout bn = NormLayout.perChannel(2, 3, 4);
        assertEquals(3, bn.statCount());
        assertEquals(8, bn.elementsPerStat());
        assertEquals(2, bn.statIndex(1, 2));
        NormLayout gn = NormLayout.perGroup(2, 6, 5, 3);
        assertEquals(6, gn.statCount());
        assertEquals(10, gn.elementsPerStat());
        assertEquals(1 * 3 + 2, gn.statIndex(1, 5));
        assertEquals(0, gn.statIndex(0, 1));
        assertEquals(60, gn.numel());
        assertThrows(IllegalArgumentException.class, () -> NormLayout.perGroup(2, 6, 5, 4));
        assertThrows(IllegalArgumentException.class, () -> NormLayout.perChannel(0, 3, 4));
        assertThrows(IllegalArgumentException.class, () -> new NormLayout(NormLayout.Reduction.PER_CHANNEL, 1, 4, 1, 2));
    }

    @Test
    void varianceSurvivesALargeMean() {
        // E[x²] − E[x]² would lose every digit here (1e16 against 1e-4); two passes keep them.
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(3);
            double[] r = new double[2 * 2 * 50];
            double[] xv = new double[r.length];
            for (int i = 0; i < r.length; i++) {
                xv[i] = 1e8 + 0.01 * rng.nextGaussian();
                r[i] = xv[i] - 1e8; // exact: both are within a factor 2 of each other
            }
            Tensor x = Tensor.fromDoubles(xv, Shape.of(2, 2, 50), DType.F64, CPU);
            Tensor mean = zeros(2);
            Tensor var = zeros(2);
            kernels().moments(x, NormLayout.perChannel(2, 2, 50), mean, var);
            for (int c = 0; c < 2; c++) {
                double m = 0;
                int k = 0;
                for (int i = 0; i < r.length; i++) {
                    if ((i / 50) % 2 == c) {
                        m += r[i];
                        k++;
                    }
                }
                m /= k;
                double v = 0;
                for (int i = 0; i < r.length; i++) {
                    if ((i / 50) % 2 == c) {
                        v += (r[i] - m) * (r[i] - m);
                    }
                }
                v /= k;
                assertEquals(v, var.get(c), 1e-9 * v, "variance of channel " + c);
                assertEquals(1e8 + m, mean.get(c), 1e-7, "mean of channel " + c);
            }
        }
    }

    @Test
    void backwardComputesOnlyRequestedOutputs() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(4);
            NormLayout layout = NormLayout.perGroup(2, 4, 3, 2);
            Tensor x = Tensor.randn(rng, Shape.of(2, 4, 3), DType.F64, CPU);
            Tensor dy = Tensor.randn(rng, Shape.of(2, 4, 3), DType.F64, CPU);
            Tensor w = Tensor.rand(rng, 0.5, 1.5, Shape.of(4), DType.F64, CPU);
            Tensor mean = zeros(4);
            Tensor var = zeros(4);
            NormKernels k = kernels();
            k.moments(x, layout, mean, var);
            Tensor dx = Tensor.zeros(x.shape(), DType.F64, CPU);
            Tensor dw = zeros(4);
            Tensor db = zeros(4);
            k.normalizeBackward(dy, x, layout, mean, var, 1e-5, w, true, dx, dw, db);
            Tensor dwOnly = zeros(4);
            k.normalizeBackward(dy, x, layout, mean, var, 1e-5, w, true, null, dwOnly, null);
            Tensor dxOnly = Tensor.zeros(x.shape(), DType.F64, CPU);
            k.normalizeBackward(dy, x, layout, mean, var, 1e-5, w, true, dxOnly, null, null);
            Close.assertClose("dweight alone", dw.toDoubleArray(), dwOnly.toDoubleArray(), 0, 0);
            Close.assertClose("dx alone", dx.toDoubleArray(), dxOnly.toDoubleArray(), 0, 0);
            // dbias = Σ dy per channel, whatever the reduction.
            double[] g = dy.toDoubleArray();
            double[] expected = new double[4];
            for (int i = 0; i < g.length; i++) {
                expected[(i / 3) % 4] += g[i];
            }
            Close.assertClose("dbias", expected, db.toDoubleArray(), 1e-14, 1e-14);
        }
    }

    @Test
    void runningStatisticsAverageInstancesWithTheUnbiasedVariance() {
        try (Scope s = Scope.open()) {
            // Two instances of two channels, 3 elements behind each statistic, momentum 0.25.
            Tensor bm = Tensor.of(new double[] {1, 2, 3, 6}, 4);
            Tensor bv = Tensor.of(new double[] {2, 4, 6, 8}, 4);
            Tensor rm = Tensor.of(new double[] {0.5, -1}, 2);
            Tensor rv = Tensor.of(new double[] {1, 3}, 2);
            kernels().updateRunningStats(bm, bv, 2, 3, 0.25, rm, rv);
            double u = 3.0 / 2.0;
            assertEquals(0.75 * 0.5 + 0.25 * (1 + 3) / 2.0, rm.get(0), 1e-15);
            assertEquals(0.75 * -1 + 0.25 * (2 + 6) / 2.0, rm.get(1), 1e-15);
            assertEquals(0.75 * 1 + 0.25 * u * (2 + 6) / 2.0, rv.get(0), 1e-15);
            assertEquals(0.75 * 3 + 0.25 * u * (4 + 8) / 2.0, rv.get(1), 1e-15);
        }
    }

    @Test
    void oneElementPerStatisticGivesBiasAndZeroGradient() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(5);
            NormLayout layout = NormLayout.perGroup(3, 2, 1, 2); // every (n, c) alone
            Tensor x = Tensor.randn(rng, Shape.of(3, 2), DType.F64, CPU);
            Tensor b = Tensor.of(new double[] {0.3, -0.7}, 2);
            Tensor w = Tensor.of(new double[] {2.0, 3.0}, 2);
            Tensor mean = zeros(6);
            Tensor var = zeros(6);
            NormKernels k = kernels();
            k.moments(x, layout, mean, var);
            Tensor y = Tensor.zeros(x.shape(), DType.F64, CPU);
            k.normalize(x, layout, mean, var, 1e-5, w, b, y);
            Tensor dx = Tensor.zeros(x.shape(), DType.F64, CPU);
            k.normalizeBackward(Tensor.randn(rng, Shape.of(3, 2), DType.F64, CPU), x, layout, mean, var, 1e-5, w, true,
                    dx, null, null);
            for (int i = 0; i < 6; i++) {
                assertEquals(i % 2 == 0 ? 0.3 : -0.7, y.toDoubleArray()[i], 0.0, "y = bias exactly");
                assertEquals(0.0, dx.toDoubleArray()[i], 0.0, "dx = 0 exactly");
            }
        }
    }

    @Test
    void constantSetKeepsTheMeanFreeGradientScaledBySqrtEps() {
        try (Scope s = Scope.open()) {
            NormLayout layout = NormLayout.perChannel(4, 1, 1);
            Tensor x = Tensor.of(new double[] {2, 2, 2, 2}, 4, 1);
            double[] g = {1, -2, 0.5, 3};
            Tensor mean = zeros(1);
            Tensor var = zeros(1);
            NormKernels k = kernels();
            k.moments(x, layout, mean, var);
            Tensor dx = Tensor.zeros(x.shape(), DType.F64, CPU);
            k.normalizeBackward(Tensor.of(g, 4, 1), x, layout, mean, var, 1e-3, null, true, dx, null, null);
            double mg = (1 - 2 + 0.5 + 3) / 4.0;
            for (int i = 0; i < 4; i++) {
                assertEquals((g[i] - mg) / Math.sqrt(1e-3), dx.toDoubleArray()[i], 1e-12);
            }
        }
    }

    @Test
    void float32StoresTheRoundedFloat64Result() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(6);
            NormLayout layout = NormLayout.perChannel(3, 2, 4);
            Tensor x32 = Tensor.randn(rng, Shape.of(3, 2, 4), DType.F32, CPU);
            Tensor x64 = x32.to(DType.F64);
            Tensor m32 = Tensor.zeros(Shape.of(2), DType.F32, CPU);
            Tensor v32 = Tensor.zeros(Shape.of(2), DType.F32, CPU);
            Tensor m64 = zeros(2);
            Tensor v64 = zeros(2);
            kernels().moments(x32, layout, m32, v32);
            kernels().moments(x64, layout, m64, v64);
            for (int c = 0; c < 2; c++) {
                assertEquals((float) m64.get(c), m32.get(c), 0.0, "mean rounded once");
                assertEquals((float) v64.get(c), v32.get(c), 0.0, "var rounded once");
            }
        }
    }
}
