package io.jnorm.nn.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.io.Npy;
import io.jnorm.nn.BatchNorm1d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.Module;
import io.jnorm.nn.ModuleGradcheck;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** State dictionaries (PyTorch names, int64 counter, round trips), printing, module gradchecks. */
class NormStateTest {
    private static final Device CPU = Device.CPU;

    private static Tensor randn(long seed, int... dims) {
        return Tensor.randn(new Rng(seed), Shape.of(dims), DType.F64, CPU);
    }

    @Test
    void batchNormStateDictRoundTripsThroughNpz(@TempDir Path tmp) {
        try (Scope s = Scope.open();
             BatchNorm2d a = new BatchNorm2d(3, DType.F64, CPU);
             BatchNorm2d b = new BatchNorm2d(3, DType.F64, CPU)) {
            for (int k = 0; k < 3; k++) {
                a.forward(randn(k, 4, 3, 2, 2));
            }
            assertEquals(List.of("weight", "bias", "running_mean", "running_var", "num_batches_tracked"),
                    List.copyOf(a.stateDict().keySet()));
            assertEquals(Set.of("num_batches_tracked"), a.integerStateKeys());
            a.save(tmp.resolve("bn.npz"));
            b.load(tmp.resolve("bn.npz"));
            assertEquals(3.0, b.numBatchesTracked().item());
            Close.assertClose("running_var", a.runningVar().toDoubleArray(), b.runningVar().toDoubleArray(), 0, 0);
            a.eval();
            b.eval();
            Tensor x = randn(9, 2, 3, 2, 2);
            Close.assertClose("eval after load", a.forward(x).toDoubleArray(), b.forward(x).toDoubleArray(), 0, 0);
        }
    }

    @Test
    void counterIsWrittenAsInt64(@TempDir Path tmp) {
        try (Scope s = Scope.open(); BatchNorm1d bn = new BatchNorm1d(2, DType.F64, CPU)) {
            bn.forward(randn(1, 3, 2));
            bn.saveNpyDir(tmp);
            assertEquals(1L, Npy.readLongs(tmp.resolve("num_batches_tracked.npy"))[0]);
        }
    }

    @Test
    void loadingANegativeRunningVarianceIsRejected() {
        try (Scope s = Scope.open(); BatchNorm2d bn = new BatchNorm2d(2, DType.F64, CPU)) {
            Map<String, Tensor> state = new java.util.LinkedHashMap<>(bn.stateDict());
            state.put("running_var", Tensor.of(new double[] {1.0, -0.5}, 2));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bn.loadStateDict(state));
            assertTrue(e.getMessage().contains("running_var") && e.getMessage().contains("-0.5"), e.getMessage());
            assertEquals(1.0, bn.runningVar().get(1), "nothing copied on a failed load");
        }
    }

    @Test
    void printsSettings() {
        try (BatchNorm2d bn = new BatchNorm2d(3); GroupNorm gn = new GroupNorm(2, 4); LayerNorm ln = new LayerNorm(3, 4);
             InstanceNorm2d in = new InstanceNorm2d(5)) {
            assertEquals("BatchNorm2d(3, eps=1.0E-5, momentum=0.1, affine=true, trackRunningStats=true)", bn.toString());
            assertEquals("GroupNorm(2, 4, eps=1.0E-5, affine=true)", gn.toString());
            assertEquals("LayerNorm([3, 4], eps=1.0E-5, elementwiseAffine=true)", ln.toString());
            assertEquals("InstanceNorm2d(5, eps=1.0E-5, momentum=0.1, affine=false, trackRunningStats=false)",
                    in.toString());
        }
    }

    @Test
    void modulesPassGradcheckInTrainAndEval() {
        try (Scope s = Scope.open()) {
            Module[] layers = {
                new BatchNorm2d(3, DType.F64, CPU),
                new BatchNorm1d(3, 1e-5, null, true, true, DType.F64, CPU),
                new GroupNorm(3, 3, 1e-5, true, DType.F64, CPU),
                new LayerNorm(new int[] {3, 2, 2}, 1e-5, true, DType.F64, CPU),
                new InstanceNorm2d(3, 1e-5, 0.1, true, true, DType.F64, CPU)};
            int seed = 20;
            for (Module m : layers) {
                try (m) {
                    Rng rng = new Rng(seed++);
                    for (Tensor p : m.parameters()) {
                        p.backend().copy(Tensor.rand(rng, 0.5, 1.5, p.shape(), DType.F64, CPU), p);
                    }
                    int[] shape = m instanceof BatchNorm1d ? new int[] {4, 3} : new int[] {2, 3, 2, 2};
                    Tensor x = Tensor.randn(rng, Shape.of(shape), DType.F64, CPU).requiresGrad(true);
                    Gradcheck.Result train = ModuleGradcheck.check(m, x);
                    assertTrue(train.passed(), m + " train: " + train.message());
                    m.eval();
                    Gradcheck.Result eval = ModuleGradcheck.check(m, x);
                    assertTrue(eval.passed(), m + " eval: " + eval.message());
                }
            }
        }
    }
}
