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
import org.junit.jupiter.params.provider.EnumSource;

/** Ops.maxPool2d and Ops.avgPool2d on the GPU under test (pool.cu): parity and gradcheck. */
class CudaPoolTest {

    @ParameterizedTest
    @EnumSource(DType.class)
    void poolsMatchTheCpu(DType t) {
        Map<String, Long> launches = launchesDuring(() -> {
            HeavyOpsParity.check("max_pool2d", t, 1, in -> Ops.maxPool2d(in[0], new int[] {3, 2}, new int[] {2, 1},
                    new int[] {1, 0}), randn(1, t, 2, 3, 7, 6));
            HeavyOpsParity.check("avg_pool2d", t, 9, in -> Ops.avgPool2d(in[0], 3, 2, 1), randn(2, t, 1, 2, 7, 8));
        });
        for (String k : new String[] {"max_pool2d_fwd_", "max_pool2d_bwd_", "avg_pool2d_fwd_", "avg_pool2d_bwd_"}) {
            assertLaunched(launches, k + t.suffix());
        }
    }

    @Test
    void gradcheckOnTheGpu() {
        Tensor x = gpu(randn(3, DType.F64, 1, 2, 5, 5)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.maxPool2d(in[0], 2, 2, 1), x);
        Gradcheck.assertPasses(in -> Ops.avgPool2d(in[0], 3, 2, 1), x);
    }
}
