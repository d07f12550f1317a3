package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.nn.BatchNorm1d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.Module;
import io.jnorm.nn.NormBase;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import io.jnorm.testing.Close;
import java.util.List;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/** Defaults, state names, mode logic and the equivalences between layers that PyTorch has. */
class NormModulesTest {
    private static final Device CPU = Device.CPU;

    private static Tensor randn(long seed, int... dims) {
        return Tensor.randn(new Rng(seed), Shape.of(dims), DType.F64, CPU);
    }

    private static void assertValues(String what, double expected, Tensor t) {
        for (double v : t.toDoubleArray()) {
            assertEquals(expected, v, 0.0, what);
        }
    }

    @Test
    void batchNormHasPyTorchDefaultsAndStateNames() {
        try (BatchNorm2d bn = new BatchNorm2d(3)) {
            assertEquals(1e-5, bn.eps());
            assertEquals(0.1, bn.momentum());
            assertTrue(bn.affine() && bn.trackRunningStats());
            assertEquals(DType.F32, bn.dtype());
            assertEquals(List.of("weight", "bias"), List.copyOf(bn.namedParameters().keySet()));
            assertEquals(List.of("running_mean", "running_var", "num_batches_tracked"),
                    List.copyOf(bn.namedBuffers().keySet()));
            assertValues("weight init", 1, bn.weight());
            assertValues("bias init", 0, bn.bias());
            assertValues("running_mean init", 0, bn.runningMean());
            assertValues("running_var init", 1, bn.runningVar());
            assertEquals(Shape.scalar(), bn.numBatchesTracked().shape());
            assertEquals(0.0, bn.numBatchesTracked().item());
            assertTrue(bn.weight().requiresGrad());
            assertFalse(bn.runningMean().requiresGrad());
        }
        try (BatchNorm1d bn = new BatchNorm1d(3, 1e-5, 0.1, false, false, DType.F64, CPU)) {
            assertTrue(bn.namedParameters().isEmpty());
            assertTrue(bn.namedBuffers().isEmpty());
        }
    }

    @Test
    void instanceNormDefaultsHaveNoAffineAndNoRunningStats() {
        try (InstanceNorm2d in = new InstanceNorm2d(3)) {
            assertFalse(in.affine());
            assertFalse(in.trackRunningStats());
            assertTrue(in.namedParameters().isEmpty());
            assertTrue(in.namedBuffers().isEmpty());
        }
    }

    @Test
    void groupNormAndLayerNormAffineShapes() {
        try (GroupNorm gn = new GroupNorm(2, 6); LayerNorm ln = new LayerNorm(3, 4)) {
            assertEquals(Shape.of(6), gn.weight().shape());
            assertEquals(Shape.of(6), gn.bias().shape());
            assertEquals(Shape.of(3, 4), ln.weight().shape());
            assertEquals(List.of("weight", "bias"), List.copyOf(ln.namedParameters().keySet()));
            assertTrue(gn.namedBuffers().isEmpty() && ln.namedBuffers().isEmpty());
        }
    }

    @Test
    void cumulativeAverageFirstStepCopiesBatchStatistics() {
        try (Scope s = Scope.open();
             BatchNorm2d bn = new BatchNorm2d(2, 1e-5, null, true, true, DType.F64, CPU)) {
            Tensor x = randn(1, 3, 2, 2, 2);
            bn.forward(x);
            double[] xv = x.toDoubleArray();
            for (int c = 0; c < 2; c++) {
                double sum = 0;
                double sq = 0;
                int m = 0;
                for (int i = 0; i < xv.length; i++) {
                    if ((i / 4) % 2 == c) {
                        sum += xv[i];
                        m++;
                    }
                }
                double mean = sum / m;
                for (int i = 0; i < xv.length; i++) {
                    if ((i / 4) % 2 == c) {
                        sq += (xv[i] - mean) * (xv[i] - mean);
                    }
                }
                assertEquals(mean, bn.runningMean().get(c), 1e-15, "running_mean = batch mean after one step");
                assertEquals(sq / (m - 1), bn.runningVar().get(c), 1e-14, "running_var = unbiased var after one step");
            }
            assertEquals(1.0, bn.numBatchesTracked().item());
        }
    }

    @Test
    void rejectedTrainingCallLeavesStateUntouched() {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(3, DType.F64, CPU)) {
            assertThrows(IllegalArgumentException.class, () -> bn.forward(randn(2, 1, 3, 1, 1)));
            assertEquals(0.0, bn.numBatchesTracked().item());
            assertValues("running_mean", 0, bn.runningMean());
            bn.eval();
            Tensor y = bn.forward(randn(2, 1, 3, 1, 1));
            assertEquals(Shape.of(1, 3, 1, 1), y.shape());
        }
    }

    @Test
    void untrackedBatchNormUsesBatchStatisticsInEval() {
        try (Scope s = Scope.open();
             BatchNorm2d a = new BatchNorm2d(3, 1e-5, 0.1, true, false, DType.F64, CPU)) {
            Tensor x = randn(3, 2, 3, 2, 2);
            double[] train = a.forward(x).toDoubleArray();
            a.eval();
            Close.assertClose("eval == train without buffers", train, a.forward(x).toDoubleArray(), 0, 0);
        }
    }

    @Test
    void resetRunningStatsRestoresInitialState() {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(3, DType.F64, CPU)) {
            bn.forward(randn(4, 2, 3, 2, 2));
            bn.forward(randn(5, 2, 3, 2, 2));
            assertEquals(2.0, bn.numBatchesTracked().item());
            bn.resetRunningStats();
            assertValues("running_mean", 0, bn.runningMean());
            assertValues("running_var", 1, bn.runningVar());
            assertEquals(0.0, bn.numBatchesTracked().item());
        }
    }

    @Test
    void batchNorm1dOnPairsEqualsBatchNorm2dOnOneByOneImages() {
        try (Scope s = Scope.open();
             BatchNorm1d a = new BatchNorm1d(3, DType.F64, CPU);
             BatchNorm2d b = new BatchNorm2d(3, DType.F64, CPU)) {
            Tensor x = randn(6, 5, 3);
            Close.assertClose("bn1d vs bn2d", b.forward(x.reshape(5, 3, 1, 1)).toDoubleArray(),
                    a.forward(x).toDoubleArray(), 0, 0);
            Close.assertClose("running_var", b.runningVar().toDoubleArray(), a.runningVar().toDoubleArray(), 0, 0);
        }
    }

    @Test
    void groupNormExtremesMatchLayerNormAndInstanceNormStatistics() {
        try (Scope s = Scope.open();
             GroupNorm g1 = new GroupNorm(1, 3, 1e-5, true, DType.F64, CPU);
             LayerNorm ln = new LayerNorm(new int[] {3, 2, 2}, 1e-5, true, DType.F64, CPU);
             GroupNorm gc = new GroupNorm(3, 3, 1e-5, false, DType.F64, CPU);
             InstanceNorm2d in = new InstanceNorm2d(3, DType.F64, CPU)) {
            Tensor x = randn(7, 2, 3, 2, 2);
            Close.assertClose("GN(1) == LN(C,H,W) at default affine", ln.forward(x).toDoubleArray(),
                    g1.forward(x).toDoubleArray(), 1e-15, 1e-15);
            Close.assertClose("GN(C) == IN", in.forward(x).toDoubleArray(), gc.forward(x).toDoubleArray(), 1e-15, 1e-15);
        }
    }

    @Test
    void trainAndEvalAgreeForStatelessLayers() {
        try (Scope s = Scope.open(); GroupNorm gn = new GroupNorm(2, 4, 1e-5, true, DType.F64, CPU);
             LayerNorm ln = new LayerNorm(new int[] {3}, 1e-5, true, DType.F64, CPU)) {
            Tensor x = randn(8, 2, 4, 3);
            double[] g = gn.forward(x).toDoubleArray();
            double[] l = ln.forward(x).toDoubleArray();
            gn.eval();
            ln.eval();
            Close.assertClose("gn eval", g, gn.forward(x).toDoubleArray(), 0, 0);
            Close.assertClose("ln eval", l, ln.forward(x).toDoubleArray(), 0, 0);
        }
    }

    @Test
    void instanceNormUnbatchedInputIsABatchOfOne() {
        try (Scope s = Scope.open(); InstanceNorm2d in = new InstanceNorm2d(3, 1e-5, 0.1, true, false, DType.F64, CPU)) {
            Tensor x = randn(9, 3, 2, 3).requiresGrad(true);
            Tensor y = in.forward(x);
            assertEquals(x.shape(), y.shape());
            Close.assertClose("unbatched", in.forward(x.reshape(1, 3, 2, 3)).toDoubleArray(), y.toDoubleArray(), 0, 0);
            y.backward(Tensor.full(1.0, y.shape(), DType.F64, CPU));
            assertNotNull(x.grad());
            assertNotNull(in.weight().grad());
        }
    }

    @Test
    void instanceNormTracksRunningStatsButNeverCountsBatches() {
        try (Scope s = Scope.open(); InstanceNorm2d in = new InstanceNorm2d(2, 1e-5, 0.1, false, true, DType.F64, CPU)) {
            in.forward(randn(10, 2, 2, 3, 3));
            in.forward(randn(11, 2, 2, 3, 3));
            assertEquals(0.0, in.numBatchesTracked().item(), "PyTorch 1.13 never increments it for instance norm");
            assertTrue(in.runningMean().get(0) != 0.0, "running mean moved");
            in.eval();
            // With running statistics eval accepts H·W = 1.
            assertEquals(Shape.of(1, 2, 1, 1), in.forward(randn(12, 1, 2, 1, 1)).shape());
        }
    }

    @Test
    void evalBackwardUsesStatisticsOfTheForwardEvenIfTrainingUpdatesThemLater() {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(2, DType.F64, CPU)) {
            bn.eval();
            Tensor x = randn(13, 2, 2, 2, 2).requiresGrad(true);
            Tensor y = bn.forward(x);
            bn.train(true);
            bn.forward(randn(14, 4, 2, 2, 2).mul(10.0));
            y.backward(Tensor.full(1.0, y.shape(), DType.F64, CPU));
            // Running var was 1 at the eval forward: dx = dy·w/sqrt(1 + eps).
            assertValues("dx", 1.0 / Math.sqrt(1 + 1e-5), x.grad());
        }
    }

    /**
     * A layer in training or evaluation mode, and the flat indices of y, of dx and of dweight a
     * NaN spreads to.
     */
    private record NanCase(Module layer, boolean training, IntPredicate yCovered, IntPredicate dxCovered,
                           IntPredicate weightCovered) {
        NanCase(Module layer, IntPredicate covered, IntPredicate weightCovered) {
            this(layer, true, covered, covered, weightCovered);
        }
    }

    /**
     * The spec's NaN rows for training BN, GN, LN and IN: a NaN at (n=0, c=1, l=2) of a
     * (2, 4, 2, 2) input spreads over exactly the set its statistic covers (BN: channel 1 of
     * every sample; GN with 2 groups: sample 0, channels 0-1; LN over (C, H, W): all of sample 0;
     * IN: instance (0, 1)), in y and in dx, and nowhere else; dweight is NaN where a covered x̂
     * reaches it, dbias = Σ dy never is, and only channel 1 of the running statistics turns NaN.
     * In evaluation BN normalizes each element alone: only that y is NaN, dx = dy·w·rstd never.
     */
    @Test
    void nanInTrainingStaysInTheSetItsStatisticCovers() {
        int nan = (0 * 4 + 1) * 4 + 2;
        List<NanCase> cases = List.of(
                new NanCase(new BatchNorm2d(4, DType.F64, CPU), i -> (i / 4) % 4 == 1, c -> c == 1),
                new NanCase(new GroupNorm(2, 4, 1e-5, true, DType.F64, CPU), i -> i / 16 == 0 && (i / 4) % 4 < 2,
                        c -> c < 2),
                new NanCase(new LayerNorm(new int[] {4, 2, 2}, 1e-5, true, DType.F64, CPU), i -> i / 16 == 0,
                        e -> true),
                new NanCase(new InstanceNorm2d(4, 1e-5, 0.1, true, true, DType.F64, CPU), i -> i / 4 == 1,
                        c -> c == 1),
                new NanCase(new BatchNorm2d(4, DType.F64, CPU).eval(), false, i -> i == nan, i -> false,
                        c -> c == 1));
        for (NanCase k : cases) {
            try (Scope s = Scope.open(); Module m = k.layer()) {
                double[] xv = randn(19, 2, 4, 2, 2).toDoubleArray();
                xv[nan] = Double.NaN;
                Tensor x = Tensor.fromDoubles(xv, Shape.of(2, 4, 2, 2), DType.F64, CPU).requiresGrad(true);
                Tensor y = m.forward(x);
                y.backward(randn(20, 2, 4, 2, 2));
                double[] yv = y.toDoubleArray();
                double[] dx = x.grad().toDoubleArray();
                String mode = k.training() ? " train" : " eval";
                for (int i = 0; i < yv.length; i++) {
                    assertEquals(k.yCovered().test(i), Double.isNaN(yv[i]), m + mode + ": y NaN at index " + i);
                    assertEquals(k.dxCovered().test(i), Double.isNaN(dx[i]), m + mode + ": dx NaN at index " + i);
                }
                double[] dw = m.parameter("weight").grad().toDoubleArray();
                for (int i = 0; i < dw.length; i++) {
                    assertEquals(k.weightCovered().test(i), Double.isNaN(dw[i]), m + ": dweight NaN at index " + i);
                }
                for (double v : m.parameter("bias").grad().toDoubleArray()) {
                    assertFalse(Double.isNaN(v), m + ": dbias = Σ dy does not see x");
                }
                if (k.training() && m instanceof NormBase nb && nb.trackRunningStats()) {
                    for (int c = 0; c < 4; c++) {
                        assertEquals(c == 1, Double.isNaN(nb.runningMean().get(c)), m + ": running_mean[" + c + "]");
                        assertEquals(c == 1, Double.isNaN(nb.runningVar().get(c)), m + ": running_var[" + c + "]");
                    }
                }
            }
        }
    }

    @Test
    void noGradForwardRecordsNothing() {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(2, DType.F64, CPU);
             var g = io.jnorm.autograd.GradMode.noGrad()) {
            Tensor y = bn.forward(randn(19, 2, 2, 2, 2));
            assertNull(y.gradFn());
            assertEquals(1.0, bn.numBatchesTracked().item(), "state still advances under no-grad");
        }
    }

    @Test
    void modulesAreModules() {
        // Every layer composes with the Module machinery (train/eval propagate, close frees).
        Module[] all = {new BatchNorm1d(2), new BatchNorm2d(2), new GroupNorm(1, 2), new LayerNorm(2), new InstanceNorm2d(2)};
        for (Module m : all) {
            m.eval();
            assertFalse(m.isTraining());
            m.close();
            for (Tensor t : m.namedParameters().values()) {
                assertTrue(t.isClosed(), m + " parameter freed on close");
            }
        }
    }
}
