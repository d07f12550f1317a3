package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertLaunched;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static io.jnorm.backend.cuda.HeavyOpsParity.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.cuda.CudaLinalg.BatchAxis;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Ops.matmul and Ops.linear on the GPU under test (gemm.cu): parity, broadcast batches, gradcheck. */
class CudaLinalgTest {

    @ParameterizedTest
    @EnumSource(DType.class)
    void matmulWithBroadcastBatchesMatchesTheCpu(DType t) {
        // [2,1,3] batch against [3] batch: one merged pattern per axis, one launch.
        Map<String, Long> launches = launchesDuring(() -> HeavyOpsParity.check("matmul", t, 9,
                in -> Ops.matmul(in[0], in[1]), randn(1, t, 2, 1, 3, 5, 9), randn(2, t, 3, 9, 7)));
        assertLaunched(launches, "gemm_" + t.suffix());
        // Alternating broadcast patterns over three axes: the host loops over the outermost.
        HeavyOpsParity.check("matmul 3-level broadcast", t, 4, in -> Ops.matmul(in[0], in[1]),
                randn(3, t, 2, 1, 2, 3, 4), randn(4, t, 1, 3, 1, 4, 5));
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void linearMatchesTheCpu(DType t) {
        HeavyOpsParity.check("linear", t, 33, in -> Ops.linear(in[0], in[1], in[2]),
                randn(5, t, 70, 33), randn(6, t, 66, 33), randn(7, t, 66));
    }

    @Test
    void batchAxesMergeByBroadcastPattern() {
        // out [2,3,4,5] from a [2,3,1,.,.] and b [4,5] batches: (2*3 a-only) then (4*5 ... b absent) etc.
        List<BatchAxis> axes = CudaLinalg.batchAxes(new int[] {2, 3, 1, 1, 6, 7}, new int[] {4, 5, 7, 8},
                new int[] {2, 3, 4, 5, 6, 8});
        assertEquals(List.of(new BatchAxis(6, 1, 0), new BatchAxis(20, 0, 1)), axes);
    }

    @Test
    void gradcheckOnTheGpu() {
        Tensor a = gpu(randn(8, DType.F64, 2, 2, 3)).requiresGrad(true);
        Tensor b = gpu(randn(9, DType.F64, 3, 4)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.matmul(in[0], in[1]), a, b);
        Tensor x = gpu(randn(10, DType.F64, 2, 3)).requiresGrad(true);
        Tensor w = gpu(randn(11, DType.F64, 2, 3)).requiresGrad(true);
        Tensor bias = gpu(randn(12, DType.F64, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.linear(in[0], in[1], in[2]), x, w, bias);
    }
}
