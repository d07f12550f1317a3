package io.jnorm.ops.norm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.jnorm.autograd.GradMode;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * Without a recorded node nothing will run a backward, so the WS, BRN and BCN ops must leave
 * behind only what they return: on a GPU every extra tensor is device memory held until the
 * enclosing scope ends.
 */
class Norm2LifetimeTest {

    static int leftBehind(Supplier<Object> op) {
        try (Scope scope = Scope.open(); GradMode.Guard g = GradMode.noGrad()) {
            int before = scope.size();
            assertNotNull(op.get());
            return scope.size() - before;
        }
    }

    @Test
    void opsWithoutGradientKeepOnlyTheirOutputs() {
        try (Scope outer = Scope.open()) {
            Tensor x = Tensor.randn(new Rng(1), DType.F64, 2, 4, 3, 3);
            Tensor w = Tensor.randn(new Rng(2), DType.F64, 4, 2, 3, 3);
            Tensor c4 = Tensor.ones(DType.F64, 4);
            Tensor m4 = Tensor.zeros(DType.F64, 4);
            Tensor g2 = Tensor.ones(DType.F64, 2);
            assertEquals(1, leftBehind(() -> WeightStandardization.weightStandardize(w, 0, 1e-5, true)));
            // y and the caller's copies of r and d
            assertEquals(3, leftBehind(() -> BatchRenormOp.train(x, c4, m4, m4, c4, 2, 1, 0.1, 1e-5)));
            assertEquals(1, leftBehind(() -> BatchRenormOp.trainWithCorrection(x, c4, m4, c4, m4, 1e-5)));
            assertEquals(1, leftBehind(() -> BatchRenormOp.eval(x, c4, m4, m4, c4, 1e-5)));
            assertEquals(1, leftBehind(() -> BatchChannelNormOp.groupNormGroupAffine(x, 2, g2, g2, 1e-5)));
            assertEquals(1, leftBehind(() -> BatchChannelNormOp.estimatedBatchNorm(x, c4, m4, m4, c4, 0.1, true,
                    1e-5)));
        }
    }
}
