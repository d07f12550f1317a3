package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertLaunched;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static io.jnorm.backend.cuda.HeavyOpsParity.randn;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.nn.Conv2d;
import io.jnorm.nn.WsPreset;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.WeightStandardization;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Weight standardization on the GPU under test: the fused Ops.wsConv2d (2 forward launches, no
 * standardized weight written) and the stand-alone WeightStandardization op, each against the
 * CPU reference (outputs and gradients) and by gradcheck in float64.
 */
class CudaWeightStandardizationTest {

    @ParameterizedTest(name = "{0} groups={1} epsIn={2} epsOut={3} unbiased={4}")
    @CsvSource({"F32, 1, 0, 1e-5, true", "F64, 1, 0, 1e-5, true", "F32, 2, 1e-5, 0, true", "F64, 3, 1e-5, 0, false"})
    void fusedWsConvMatchesTheCpu(DType t, int groups, double epsIn, double epsOut, boolean unbiased) {
        int c = 6;
        Tensor x = randn(1, t, 2, c, 6, 5);
        Tensor w = randn(2, t, 6, c / groups, 3, 3);
        Tensor b = randn(3, t, 6);
        Map<String, Long> launches = launchesDuring(() -> HeavyOpsParity.check("ws_conv2d", t, 2 * (c / groups) * 9 + 8,
                in -> Ops.wsConv2d(in[0], in[1], in[2], new int[] {1, 1}, new int[] {1, 1}, new int[] {1, 1}, groups,
                        epsIn, epsOut, unbiased), x, w, b));
        String s = t.suffix();
        for (String k : new String[] {"ws_stats_", "ws_conv2d_fwd_", "ws_conv2d_bwd_input_", "conv2d_bwd_weight_",
            "ws_bwd_weight_"}) {
            assertLaunched(launches, k + s);
        }
        assertFalse(launches.containsKey("ws_standardize_" + s), "the fused path never writes the standardized weight");
        assertFalse(launches.containsKey("conv2d_fwd_" + s), "the forward is the fused kernel: " + launches);
    }

    @Test
    void fusedForwardIsTwoLaunches() {
        Tensor x = gpu(randn(4, DType.F32, 1, 3, 5, 5));
        Tensor w = gpu(randn(5, DType.F32, 4, 3, 3, 3));
        Map<String, Long> launches = launchesDuring(() -> Ops.wsConv2d(x, w, null, new int[] {1}, new int[] {1},
                new int[] {1}, 1, 0, 1e-5, true).close());
        assertEquals(Map.of("ws_stats_f32", 1L, "ws_conv2d_fwd_f32", 1L), launches);
    }

    @ParameterizedTest
    @CsvSource({"F32", "F64"})
    void wsConvModuleRunsFusedAndMatchesTheCpu(DType t) {
        Conv2d cpuConv = Conv2d.builder(4, 6, 3).padding(1).groups(2).ws(WsPreset.BCN_REPO).rng(new Rng(3)).dtype(t).build();
        Conv2d gpuConv = Conv2d.builder(4, 6, 3).padding(1).groups(2).ws(WsPreset.BCN_REPO).rng(new Rng(3)).dtype(t)
                .device(CudaTestSupport.device()).build();
        Tensor x = randn(11, t, 2, 4, 5, 5);
        try (Scope s = Scope.open()) {
            Tensor yc = cpuConv.forward(x);
            Map<String, Long> launches = launchesDuring(() -> {
                Tensor yg = gpuConv.forward(gpu(x));
                CudaTestSupport.assertClose(yc.toDoubleArray(), yg.toDoubleArray(), HeavyOpsParity.atol(t, 80),
                        t == DType.F32 ? 1e-5 : 1e-12, "WS Conv2d module " + t);
            });
            assertEquals(Map.of("ws_stats_" + t.suffix(), 1L, "ws_conv2d_fwd_" + t.suffix(), 1L), launches,
                    "a WS Conv2d forward is the 2 fused launches");
        } finally {
            cpuConv.close();
            gpuConv.close();
        }
    }

    @ParameterizedTest
    @CsvSource({"F32", "F64"})
    void standAloneWeightStandardizationMatchesTheCpu(DType t) {
        Map<String, Long> launches = launchesDuring(() -> HeavyOpsParity.check("weightStandardize", t, 2 * 36 + 8,
                in -> WeightStandardization.weightStandardize(in[0], 1e-5, 0, true), randn(6, t, 5, 4, 3, 3)));
        assertLaunched(launches, "ws_standardize_" + t.suffix());
        assertLaunched(launches, "ws_bwd_weight_" + t.suffix());
    }

    @Test
    void gradcheckOnTheGpu() {
        Tensor x = gpu(randn(7, DType.F64, 1, 2, 3, 3)).requiresGrad(true);
        Tensor w = gpu(randn(8, DType.F64, 2, 1, 2, 3)).requiresGrad(true);
        Tensor b = gpu(randn(9, DType.F64, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.wsConv2d(in[0], in[1], in[2], new int[] {1, 2}, new int[] {1, 1},
                new int[] {1, 1}, 2, 0, 1e-5, true), x, w, b);
        Tensor v = gpu(randn(10, DType.F64, 2, 1, 2, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> WeightStandardization.weightStandardize(in[0], 1e-5, 0, false), v);
    }
}
