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
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.List;
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

    @Test
    void nanInInstanceNormStaysInItsInstance() {
        try (Scope s = Scope.open(); InstanceNorm2d in = new InstanceNorm2d(3, 1e-5, 0.1, true, true, DType.F64, CPU)) {
            double[] xv = randn(15, 2, 3, 2, 2).toDoubleArray();
            xv[(0 * 3 + 1) * 4 + 2] = Double.NaN;
            Tensor x = Tensor.fromDoubles(xv, Shape.of(2, 3, 2, 2), DType.F64, CPU).requiresGrad(true);
            Tensor y = in.forward(x);
            y.backward(randn(16, 2, 3, 2, 2));
            double[] yv = y.toDoubleArray();
            double[] dx = x.grad().toDoubleArray();
            for (int i = 0; i < yv.length; i++) {
                boolean inInstance = i / 4 == 1;
                assertEquals(inInstance, Double.isNaN(yv[i]), "y NaN exactly in instance (0, 1), index " + i);
                assertEquals(inInstance, Double.isNaN(dx[i]), "dx NaN exactly in instance (0, 1), index " + i);
            }
            assertTrue(Double.isNaN(in.runningMean().get(1)) && !Double.isNaN(in.runningMean().get(0)));
            assertTrue(Double.isNaN(in.weight().grad().get(1)) && !Double.isNaN(in.weight().grad().get(2)));
            assertFalse(Double.isNaN(in.bias().grad().get(1)), "dbias = Σ dy does not see x");
        }
    }

    @Test
    void nanInEvalBatchNormStaysInItsElement() {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(2, DType.F64, CPU)) {
            bn.eval();
            double[] xv = randn(17, 2, 2, 2, 2).toDoubleArray();
            xv[5] = Double.NaN;
            Tensor x = Tensor.fromDoubles(xv, Shape.of(2, 2, 2, 2), DType.F64, CPU).requiresGrad(true);
            Tensor y = bn.forward(x);
            y.backward(randn(18, 2, 2, 2, 2));
            double[] yv = y.toDoubleArray();
            double[] dx = x.grad().toDoubleArray();
            for (int i = 0; i < yv.length; i++) {
                assertEquals(i == 5, Double.isNaN(yv[i]), "y index " + i);
                assertFalse(Double.isNaN(dx[i]), "eval dx = dy·w·rstd does not see x, index " + i);
            }
            assertTrue(Double.isNaN(bn.weight().grad().get(1)), "dweight of the NaN's channel");
            assertFalse(Double.isNaN(bn.weight().grad().get(0)));
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
