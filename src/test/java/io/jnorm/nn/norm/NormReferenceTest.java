package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.nn.BatchNorm1d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.Module;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Modules against the spec-formula references of {@link NormReference} over shape grids, in
 * float64 and float32 (float32 inputs are compared with the float64 reference of the same
 * rounded values), and float32 against float64 for the gradients.
 */
class NormReferenceTest {

    static Stream<Arguments> grid() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{2, 4, 3, 3}, {1, 4, 2, 3}, {5, 4, 1, 1}, {3, 4, 1, 5}};
        for (DType d : DType.values()) {
            for (int[] s : shapes) {
                out.add(Arguments.of(d, s));
            }
        }
        return out.stream();
    }

    private static double tol(DType d) {
        return d == DType.F64 ? 1e-12 : 1e-5;
    }

    private static double[] init(Module m, String name, Rng rng, double low, double high) {
        Tensor t = m.parameter(name) != null ? m.parameter(name) : m.buffer(name);
        Tensor v = Tensor.rand(rng, low, high, t.shape(), t.dtype(), t.device());
        t.backend().copy(v, t);
        return t.toDoubleArray();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("grid")
    void batchNormTrainTwoStepsThenEval(DType d, int[] shape) {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(4, 1e-5, 0.2, true, true, d, Device.CPU)) {
            Rng rng = new Rng(7);
            double[] w = init(bn, "weight", rng, 0.5, 1.5);
            double[] b = init(bn, "bias", rng, -0.5, 0.5);
            double[] rm = init(bn, "running_mean", rng, -0.3, 0.3);
            double[] rv = init(bn, "running_var", rng, 0.5, 1.5);
            int n = shape[0];
            int l = shape[2] * shape[3];
            long m = (long) n * l;
            for (int step = 0; step < 2; step++) {
                Tensor x = Tensor.randn(rng, Shape.of(shape), d, Device.CPU);
                double[] xv = x.toDoubleArray();
                NormReference.Result r = NormReference.normalize(xv, NormReference.batchNormSets(n, 4, l), 1e-5, w, b,
                        i -> (i / l) % 4);
                Tensor y = bn.forward(x);
                Close.assertClose("bn y step " + step, r.y(), y.toDoubleArray(), tol(d), tol(d));
                double[][] run = NormReference.runningUpdate(rm, rv, r.mean(), r.biasedVar(), m, 0.2);
                rm = run[0];
                rv = run[1];
                Close.assertClose("bn running_mean", rm, bn.runningMean().toDoubleArray(), tol(d), tol(d));
                Close.assertClose("bn running_var", rv, bn.runningVar().toDoubleArray(), tol(d), tol(d));
                assertEquals(step + 1, bn.numBatchesTracked().item());
            }
            bn.eval();
            Tensor x = Tensor.randn(rng, Shape.of(shape), d, Device.CPU);
            double[] xv = x.toDoubleArray();
            double[] expected = new double[xv.length];
            for (int i = 0; i < xv.length; i++) {
                int c = (i / l) % 4;
                expected[i] = w[c] * (xv[i] - rm[c]) / Math.sqrt(rv[c] + 1e-5) + b[c];
            }
            double[] rmBefore = bn.runningMean().toDoubleArray();
            Close.assertClose("bn eval y", expected, bn.forward(x).toDoubleArray(), tol(d), tol(d));
            Close.assertClose("eval leaves running_mean", rmBefore, bn.runningMean().toDoubleArray(), 0, 0);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("grid")
    void groupNormAndLayerNormAndInstanceNorm(DType d, int[] shape) {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(8);
            int n = shape[0];
            int c = shape[1];
            int l = shape[2] * shape[3];
            Tensor x = Tensor.randn(rng, Shape.of(shape), d, Device.CPU);
            double[] xv = x.toDoubleArray();
            for (int groups : new int[] {1, 2, 4}) {
                try (GroupNorm gn = new GroupNorm(groups, c, 1e-5, true, d, Device.CPU)) {
                    double[] w = init(gn, "weight", rng, 0.5, 1.5);
                    double[] b = init(gn, "bias", rng, -0.5, 0.5);
                    double[] ref = NormReference.normalize(xv, NormReference.groupNormSets(n, c, l, groups), 1e-5, w, b,
                            i -> (i / l) % c).y();
                    Close.assertClose("gn G=" + groups, ref, gn.forward(x).toDoubleArray(), tol(d), tol(d));
                }
            }
            int[] ns = {shape[2], shape[3]};
            try (LayerNorm ln = new LayerNorm(ns, 1e-5, true, d, Device.CPU)) {
                double[] w = init(ln, "weight", rng, 0.5, 1.5);
                double[] b = init(ln, "bias", rng, -0.5, 0.5);
                // Rows are the N·C leading indices; the affine index is the position inside the row.
                double[] ref = NormReference.normalize(xv, NormReference.groupNormSets(n * c, 1, l, 1), 1e-5, w, b,
                        i -> i % l).y();
                Close.assertClose("ln " + Arrays.toString(ns), ref, ln.forward(x).toDoubleArray(), tol(d), tol(d));
            }
            if (l > 1) {
                try (InstanceNorm2d in = new InstanceNorm2d(c, 1e-5, 0.1, true, true, d, Device.CPU)) {
                    double[] w = init(in, "weight", rng, 0.5, 1.5);
                    double[] b = init(in, "bias", rng, -0.5, 0.5);
                    NormReference.Result r = NormReference.normalize(xv, NormReference.groupNormSets(n, c, l, c), 1e-5,
                            w, b, i -> (i / l) % c);
                    Close.assertClose("in", r.y(), in.forward(x).toDoubleArray(), tol(d), tol(d));
                    // Running statistics: the batch average of the per-instance statistics.
                    double[] mu = new double[c];
                    double[] var = new double[c];
                    for (int k = 0; k < n * c; k++) {
                        mu[k % c] += r.mean()[k] / n;
                        var[k % c] += r.biasedVar()[k] / n;
                    }
                    double[] ones = new double[c];
                    Arrays.fill(ones, 1.0);
                    double[][] run = NormReference.runningUpdate(new double[c], ones, mu, var, l, 0.1);
                    Close.assertClose("in running_mean", run[0], in.runningMean().toDoubleArray(), tol(d), tol(d));
                    Close.assertClose("in running_var", run[1], in.runningVar().toDoubleArray(), tol(d), tol(d));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layers")
    void float32AgreesWithFloat64(String layer) {
        try (Scope s = Scope.open()) {
            double[][] f64 = run(layer, DType.F64);
            double[][] f32 = run(layer, DType.F32);
            String[] names = {"y", "dx", "dweight", "dbias", "running_mean", "running_var"};
            for (int i = 0; i < names.length; i++) {
                assertEquals(f64[i] == null, f32[i] == null, layer + " " + names[i]);
                if (f64[i] != null) {
                    Close.assertClose(layer + " float32 vs float64 " + names[i], f64[i], f32[i], 2e-5, 2e-5);
                }
            }
        }
    }

    static Stream<String> layers() {
        return Stream.of("bn2d", "bn1d", "gn", "ln", "in");
    }

    /** One training step on float32-representable data; returns y, dx, dweight, dbias, running stats. */
    private static double[][] run(String layer, DType d) {
        Rng rng = new Rng(99);
        int[] shape = layer.equals("bn1d") ? new int[] {6, 4} : new int[] {3, 4, 3, 2};
        double[] xv = Tensor.randn(rng, Shape.of(shape), DType.F32, Device.CPU).toDoubleArray();
        double[] dyv = Tensor.randn(rng, Shape.of(shape), DType.F32, Device.CPU).toDoubleArray();
        Module m = switch (layer) {
            case "bn2d" -> new BatchNorm2d(4, d, Device.CPU);
            case "bn1d" -> new BatchNorm1d(4, d, Device.CPU);
            case "gn" -> new GroupNorm(2, 4, 1e-5, true, d, Device.CPU);
            case "ln" -> new LayerNorm(new int[] {4, 3, 2}, 1e-5, true, d, Device.CPU);
            default -> new InstanceNorm2d(4, 1e-5, 0.1, true, true, d, Device.CPU);
        };
        try (m) {
            Tensor w = m.parameter("weight");
            w.backend().copy(Tensor.rand(rng, 0.5, 1.5, w.shape(), DType.F32, Device.CPU), w);
            Tensor x = Tensor.fromDoubles(xv, Shape.of(shape), d, Device.CPU).requiresGrad(true);
            Tensor y = m.forward(x);
            y.backward(Tensor.fromDoubles(dyv, Shape.of(shape), d, Device.CPU));
            Tensor rm = m.buffer("running_mean");
            Tensor rv = m.buffer("running_var");
            return new double[][] {y.toDoubleArray(), x.grad().toDoubleArray(), w.grad().toDoubleArray(),
                m.parameter("bias").grad().toDoubleArray(), rm == null ? null : rm.toDoubleArray(),
                rv == null ? null : rv.toDoubleArray()};
        }
    }
}
