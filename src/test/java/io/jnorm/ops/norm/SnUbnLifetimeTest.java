package io.jnorm.ops.norm;

import static io.jnorm.ops.norm.Norm2LifetimeTest.leftBehind;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.nn.Module;
import io.jnorm.nn.SwitchableNorm2d;
import io.jnorm.nn.UnifiedBatchNorm2d;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Without a recorded node no backward runs, so the SN and UBN ops and layers must leave behind
 * only what they return (on a GPU every extra tensor is device memory held until the scope ends).
 */
class SnUbnLifetimeTest {

    @Test
    void opsWithoutGradientKeepOnlyTheirOutputs() {
        try (Scope outer = Scope.open()) {
            Tensor x = Tensor.randn(new Rng(1), DType.F64, 2, 3, 3, 3);
            Tensor l3 = Tensor.ones(DType.F64, 3);
            Tensor c3 = Tensor.ones(DType.F64, 3);
            Tensor z3 = Tensor.zeros(DType.F64, 3);
            Tensor k = Tensor.randn(new Rng(2), DType.F64, 3, 1, 3, 3);
            // y plus the batch pair it hands to the caller
            assertEquals(3, leftBehind(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, c3, z3, null, null, true, 1e-5)));
            assertEquals(1, leftBehind(() -> SwitchableNormOps.switchableNorm2d(x, l3, l3, c3, z3, z3, c3, false, 1e-5)));
            assertEquals(3, leftBehind(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, z3, z3, c3, k, z3, null, null,
                    true, 1e-5)));
            assertEquals(1, leftBehind(() -> UnifiedBatchNormOps.unifiedBatchNorm2d(x, z3, z3, c3, k, z3, z3, c3,
                    false, 1e-5)));
        }
    }

    @Test
    void layersWithoutGradientKeepOnlyTheirOutput() {
        try (Scope outer = Scope.open();
             SwitchableNorm2d moving = SwitchableNorm2d.builder(3).dtype(DType.F64).build();
             SwitchableNorm2d average = SwitchableNorm2d.builder(3).movingAverage(false).dtype(DType.F64).build();
             UnifiedBatchNorm2d ubn = UnifiedBatchNorm2d.builder(3).dtype(DType.F64).build()) {
            Tensor x = Tensor.randn(new Rng(3), DType.F64, 2, 3, 3, 3);
            for (Module m : new Module[] {moving, average, ubn}) {
                for (boolean training : new boolean[] {true, false}) {
                    m.train(training);
                    assertEquals(1, leftBehind(() -> m.forward(x)), m + " training=" + training);
                }
            }
        }
    }
}
