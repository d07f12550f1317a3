package io.jnorm.ops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.norm.WeightStandardization;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Ops.wsConv2d on the CPU reference: equal to conv2d of the standardized weight, gradcheck, bad input. */
class WsConv2dOpTest {

    @Test
    void equalsTheComposedOpsWithGradients() {
        try (Scope s = Scope.open()) {
            Rng rng = new Rng(1);
            Tensor x = OpTestSupport.leaf(rng, 2, 4, 5, 5);
            Tensor w = OpTestSupport.leaf(rng, 6, 2, 3, 3);
            Tensor b = OpTestSupport.leaf(rng, 6);
            int[] one = {1};
            Tensor fused = Ops.wsConv2d(x, w, b, one, one, one, 2, 0, 1e-5, true);
            fused.sum().backward();
            double[][] fusedGrads = {x.grad().toDoubleArray(), w.grad().toDoubleArray(), b.grad().toDoubleArray()};
            x.zeroGrad();
            w.zeroGrad();
            b.zeroGrad();
            Tensor composed = Ops.conv2d(x, WeightStandardization.weightStandardize(w, 0, 1e-5, true), b, one, one, one, 2);
            composed.sum().backward();
            OpTestSupport.assertClose(composed.toDoubleArray(), fused.toDoubleArray(), 1e-12, 1e-12, "ws_conv2d output");
            OpTestSupport.assertClose(x.grad().toDoubleArray(), fusedGrads[0], 1e-12, 1e-12, "ws_conv2d dx");
            OpTestSupport.assertClose(w.grad().toDoubleArray(), fusedGrads[1], 1e-11, 1e-11, "ws_conv2d dw");
            OpTestSupport.assertClose(b.grad().toDoubleArray(), fusedGrads[2], 1e-12, 1e-12, "ws_conv2d db");
        }
    }

    @Test
    void gradcheck() {
        Rng rng = new Rng(2);
        Gradcheck.assertPasses(in -> Ops.wsConv2d(in[0], in[1], in[2], new int[] {2}, new int[] {1}, new int[] {1}, 1,
                1e-5, 0, false), OpTestSupport.leaf(rng, 1, 2, 5, 4), OpTestSupport.leaf(rng, 3, 2, 2, 2),
                OpTestSupport.leaf(rng, 3));
    }

    @Test
    void rejectsAFanInOfOneWithTheUnbiasedVariance() {
        Tensor x = Tensor.zeros(DType.F64, 1, 4, 3, 3);
        Tensor w = Tensor.zeros(DType.F64, 4, 1, 1, 1);
        int[] one = {1};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.wsConv2d(x, w, null, one, new int[] {0}, one, 4, 0, 1e-5, true));
        assertTrue(e.getMessage().contains("fan-in"), e.getMessage());
        IllegalArgumentException geometry = assertThrows(IllegalArgumentException.class,
                () -> Ops.wsConv2d(x, Tensor.zeros(DType.F64, 4, 3, 1, 1), null, one, new int[] {0}, one, 1, 0, 1e-5, true));
        assertTrue(geometry.getMessage().contains("input channels"), geometry.getMessage());
    }
}
