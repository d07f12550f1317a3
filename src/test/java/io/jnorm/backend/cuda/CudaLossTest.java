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

/** Ops.logSoftmax and Ops.crossEntropy on the GPU under test (softmax.cu): parity and gradcheck. */
class CudaLossTest {

    @ParameterizedTest
    @EnumSource(DType.class)
    void logSoftmaxAndCrossEntropyMatchTheCpu(DType t) {
        Map<String, Long> launches = launchesDuring(() -> {
            HeavyOpsParity.check("log_softmax last axis", t, 40, in -> Ops.logSoftmax(in[0], -1), randn(1, t, 3, 4, 40));
            HeavyOpsParity.check("log_softmax middle axis", t, 7, in -> Ops.logSoftmax(in[0], 1), randn(2, t, 3, 7, 5));
            HeavyOpsParity.check("cross_entropy", t, 10, in -> Ops.crossEntropy(in[0], new int[] {1, 0, 9, 4, 4}),
                    randn(3, t, 5, 10));
        });
        for (String k : new String[] {"log_softmax_rows_", "log_softmax_cols_", "log_softmax_bwd_rows_",
            "log_softmax_bwd_cols_", "cross_entropy_lse_", "cross_entropy_nll_", "cross_entropy_bwd_"}) {
            assertLaunched(launches, k + t.suffix());
        }
    }

    @Test
    void gradcheckOnTheGpu() {
        Tensor x = gpu(randn(4, DType.F64, 2, 5, 3)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.logSoftmax(in[0], 1), x);
        Tensor logits = gpu(randn(5, DType.F64, 4, 6)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.crossEntropy(in[0], new int[] {5, 0, 2, 2}), logits);
    }
}
