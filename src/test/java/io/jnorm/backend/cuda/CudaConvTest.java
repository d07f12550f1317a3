package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertLaunched;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static io.jnorm.backend.cuda.HeavyOpsParity.randn;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Ops.conv2d on the GPU under test (implicit-GEMM kernels): parity with the CPU and gradcheck. */
class CudaConvTest {

    @ParameterizedTest(name = "{0} x[{1},{2},5,6] O={3} k={4} s={5} p={6} d={7} g={8}")
    @CsvSource({"F32, 2, 3, 4, 3, 1, 1, 1, 1", "F64, 2, 3, 4, 3, 1, 1, 1, 1", "F32, 1, 4, 6, 3, 2, 1, 2, 2",
            "F64, 2, 6, 6, 2, 1, 0, 1, 3", "F32, 2, 4, 4, 1, 1, 0, 1, 4"})
    void forwardAndGradientsMatchTheCpu(DType t, int n, int c, int o, int k, int s, int p, int d, int groups) {
        Tensor x = randn(1, t, n, c, 5, 6);
        Tensor w = randn(2, t, o, c / groups, k, k);
        Tensor b = randn(3, t, o);
        Map<String, Long> launches = launchesDuring(() -> HeavyOpsParity.check("conv2d", t, c / groups * k * k + 1,
                in -> Ops.conv2d(in[0], in[1], in[2], new int[] {s, s}, new int[] {p, p}, new int[] {d, d}, groups),
                x, w, b));
        for (String kernel : new String[] {"conv2d_fwd_", "conv2d_bwd_input_", "conv2d_bwd_weight_"}) {
            assertLaunched(launches, kernel + t.suffix());
        }
    }

    @Test
    void gradcheckOnTheGpu() {
        Tensor x = gpu(randn(4, DType.F64, 1, 2, 4, 5)).requiresGrad(true);
        Tensor w = gpu(randn(5, DType.F64, 2, 1, 3, 2)).requiresGrad(true);
        Tensor b = gpu(randn(6, DType.F64, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.conv2d(in[0], in[1], in[2], new int[] {2, 1}, new int[] {1, 0},
                new int[] {1, 2}, 2), x, w, b);
    }
}
