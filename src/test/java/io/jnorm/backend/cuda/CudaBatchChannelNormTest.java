package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.assertNoFallback;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.closeTo;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.countersDuring;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.tol;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.device;
import static io.jnorm.backend.cuda.CudaTestSupport.eps;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.BatchChannelNormKernels;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.nn.BatchChannelNorm2d;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.BatchChannelNormOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Batch-Channel Norm's own kernels (batch_channel_norm.cu) on the GPU against the CPU reference:
 * the EstBN estimate update at rates 0, 0.1 and 1 and the group / channel affine mapping, in
 * float32 and float64 for one group, G = C and several blocks; a BatchChannelNorm2d in both
 * flavours (BN stage and EstBN stage) trained for several steps on both devices; gradcheck in
 * float64 on the GPU of the group stage and of EstBN with its estimates held fixed.
 */
class CudaBatchChannelNormTest {
    private static final String MODULE = CudaBatchChannelNorm.MODULE;
    private static final CudaTestSupport.Claims CLAIMS = new CudaTestSupport.Claims();

    private Scope scope;

    @BeforeEach
    void open() {
        scope = Scope.open();
        CLAIMS.before();
    }

    @AfterEach
    void close(TestInfo info) {
        scope.close();
        CLAIMS.after(info.getTestMethod().orElseThrow());
    }

    @AfterAll
    static void claims() {
        CLAIMS.assertClaimsRan();
    }

    static Stream<Arguments> cases() {
        // C, G
        // one group; G = C; a few groups; more channels than the emulated grid's 2048 threads
        int[][] sizes = {{1, 1}, {6, 6}, {8, 2}, {2560, 32}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int[] s : sizes) {
                a.add(Arguments.of(t, s[0], s[1]));
            }
        }
        return a.stream();
    }

    private static Tensor on(Tensor cpu, Device d) {
        return d.equals(Device.CPU) ? cpu : gpu(cpu);
    }

    private static List<Tensor> all(Device d, DType t, int c, int g, double rate) {
        Tensor m = on(cpuRandn(1, t, c), d);
        Tensor v = on(Ops.abs(cpuRandn(2, t, c)), d);
        Tensor em = on(cpuRandn(3, t, c), d);
        Tensor ev = on(Ops.abs(cpuRandn(4, t, c)), d);
        BatchChannelNormKernels k = m.backend().batchChannelNorm();
        k.updateEstimates(m, v, rate, em, ev);
        Tensor perChannel = Tensor.zeros(Shape.of(c), t, d);
        k.expandGroups(on(cpuRandn(5, t, g), d), perChannel);
        Tensor perGroup = Tensor.zeros(Shape.of(g), t, d);
        k.sumGroups(on(cpuRandn(6, t, c), d), perGroup);
        return List.of(em, ev, perChannel, perGroup);
    }

    @ParameterizedTest(name = "{0} C={1} G={2}")
    @MethodSource("cases")
    @CoversKernels(module = MODULE, value = {"bcn_update_estimates_f32", "bcn_update_estimates_f64",
        "bcn_expand_groups_f32", "bcn_expand_groups_f64", "bcn_sum_groups_f32", "bcn_sum_groups_f64"})
    void everyKernelMatchesTheReference(DType t, int c, int g) {
        for (double rate : new double[] {0, 0.1, 1}) {
            List<Tensor> ref = all(Device.CPU, t, c, g, rate);
            List<List<Tensor>> got = new ArrayList<>();
            Map<String, Long> l = launchesDuring(() -> got.add(all(device(), t, c, g, rate)));
            for (String k : List.of("bcn_update_estimates", "bcn_expand_groups", "bcn_sum_groups")) {
                assertEquals(1L, l.getOrDefault(k + "_" + t.suffix(), 0L), k + " ran once: " + l);
            }
            String[] names = {"estMean", "estVar", "expandGroups", "sumGroups"};
            // Double arithmetic rounded once on both sides; FMA contraction on the GPU side
            // moves the double result by an ulp of its terms, hence 4 u of the magnitude.
            for (int i = 0; i < ref.size(); i++) {
                closeTo(ref.get(i).toDoubleArray(), got.get(0).get(i).toDoubleArray(), 4 * eps(t),
                        t + " C=" + c + " G=" + g + " rate=" + rate + ": " + names[i]);
            }
        }
        assertNoFallback("batchChannelNorm");
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"bcn_update_estimates_f32", "bcn_update_estimates_f64",
        "bcn_expand_groups_f32", "bcn_expand_groups_f64", "bcn_sum_groups_f32", "bcn_sum_groups_f64"})
    void layersTrainAndEvaluateLikeTheCpu(DType t) {
        int[] shape = {2, 4, 3, 3};
        for (boolean estimate : new boolean[] {false, true}) {
            BatchChannelNorm2d cpu = BatchChannelNorm2d.builder(4).groups(2).estimate(estimate).rate(0.3).dtype(t)
                    .device(Device.CPU).build();
            BatchChannelNorm2d gpu = BatchChannelNorm2d.builder(4).groups(2).estimate(estimate).rate(0.3).dtype(t)
                    .device(device()).build();
            double tol = tol(t, 8L * 36);
            String what = "BatchChannelNorm2d estimate=" + estimate + " " + t;
            CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 3, tol, 10, what + " train");
            cpu.eval();
            gpu.eval();
            CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 1, tol, 30, what + " eval");
            // modules keep their tensors beyond the scope (state outlives a step): free them
            cpu.close();
            gpu.close();
        }
        // Micro-batch BCN takes any batch: one sample of one position per channel.
        BatchChannelNorm2d cpu = BatchChannelNorm2d.builder(4).groups(2).estimate(true).rate(0.3).dtype(t)
                .device(Device.CPU).build();
        BatchChannelNorm2d gpu = BatchChannelNorm2d.builder(4).groups(2).estimate(true).rate(0.3).dtype(t)
                .device(device()).build();
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, new int[] {1, 4, 1, 1}, 2, tol(t, 16), 50,
                "BatchChannelNorm2d estimate N=1 H·W=1 " + t);
        cpu.close();
        gpu.close();
        // channels of 2·32 values: EstBN's fused norm_fwd_est forward
        BatchChannelNorm2d cpuF = BatchChannelNorm2d.builder(4).groups(2).estimate(true).rate(0.3).dtype(t)
                .device(Device.CPU).build();
        BatchChannelNorm2d gpuF = BatchChannelNorm2d.builder(4).groups(2).estimate(true).rate(0.3).dtype(t)
                .device(device()).build();
        Map<String, Long> l = launchesDuring(() -> CudaNormFamiliesTestSupport.parity(cpuF, gpuF, t,
                new int[] {2, 4, 4, 8}, 3, tol(t, 8L * 64), 60, "BatchChannelNorm2d estimate fused " + t));
        assertEquals(3L, l.get("norm_fwd_est_" + t.suffix()), "one fused EstBN forward per step: " + l);
        cpuF.close();
        gpuF.close();
        assertNoFallback("batchChannelNorm");
    }

    static Stream<Arguments> estimatedShapes() {
        // [N, C, H, W]: channels of 64 and 32·3 values take the fused norm_fwd_est (one and several
        // channels per block row, a tail of the 16-byte vectors); 3x3 maps take the column kernels
        int[][] shapes = {{1, 3, 8, 8}, {3, 5, 4, 8}, {2, 4, 3, 3}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int[] s : shapes) {
                a.add(Arguments.of(t, s));
            }
        }
        return a.stream();
    }

    private static List<Tensor> estimated(Device d, DType t, int[] shape, double rate) {
        int c = shape[1];
        Tensor x = on(cpuRandn(31, t, shape), d);
        Tensor w = on(cpuRandn(32, t, c), d);
        Tensor b = on(cpuRandn(33, t, c), d);
        Tensor em = on(cpuRandn(34, t, c), d);
        Tensor ev = on(Ops.abs(cpuRandn(35, t, c)), d);
        Tensor m = Tensor.zeros(Shape.of(c), t, d);
        Tensor v = Tensor.zeros(Shape.of(c), t, d);
        Tensor y = Tensor.zeros(x.shape(), t, d);
        int l = shape[2] * shape[3];
        x.backend().batchChannelNorm().estimatedForward(x, io.jnorm.backend.NormLayout.perChannel(shape[0], c, l),
                rate, 1e-5, w, b, m, v, em, ev, y);
        return List.of(y, m, v, em, ev);
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("estimatedShapes")
    @CoversKernels(module = CudaNormPtx.MODULE, value = {"norm_fwd_est_f32", "norm_fwd_est_f64"})
    void estimatedForwardMatchesTheReferenceInOneLaunchWhenAChannelFits(DType t, int[] shape) {
        boolean fits = shape[2] * shape[3] >= 32;
        for (double rate : new double[] {0, 0.3, 1}) {
            List<Tensor> ref = estimated(Device.CPU, t, shape, rate);
            List<List<Tensor>> got = new ArrayList<>();
            Map<String, Long> l = launchesDuring(() -> got.add(estimated(device(), t, shape, rate)));
            String what = t + " " + java.util.Arrays.toString(shape) + " rate=" + rate;
            if (fits) {
                assertEquals(Map.of("norm_fwd_est_" + t.suffix(), 1L), l, what + ": one fused launch");
            }
            String[] names = {"y", "batchMean", "batchVar", "estMean", "estVar"};
            long count = (long) shape[0] * shape[2] * shape[3];
            for (int i = 0; i < ref.size(); i++) {
                closeTo(ref.get(i).toDoubleArray(), got.get(0).get(i).toDoubleArray(), tol(t, count),
                        what + ": " + names[i]);
            }
        }
        assertNoFallback("batchChannelNorm");
    }

    @Test
    @CoversKernels(module = CudaNormPtx.MODULE, value = "norm_fwd_est_f32")
    void estimatedForwardReadsTheInputOnce() {
        int[] shape = {4, 64, 8, 8};
        Tensor x = gpu(cpuRandn(41, DType.F32, shape));
        Tensor em = gpu(cpuRandn(42, DType.F32, 64));
        Tensor ev = gpu(Ops.abs(cpuRandn(43, DType.F32, 64)));
        Tensor m = Tensor.zeros(Shape.of(64), DType.F32, x.device());
        Tensor v = Tensor.zeros(Shape.of(64), DType.F32, x.device());
        Tensor y = Tensor.zeros(x.shape(), DType.F32, x.device());
        Map<String, KernelCounters> k = countersDuring(() -> x.backend().batchChannelNorm().estimatedForward(x,
                io.jnorm.backend.NormLayout.perChannel(4, 64, 64), 0.1, 1e-5, null, null, m, v, em, ev, y));
        if (k.isEmpty()) {
            return; // a real GPU has no counters
        }
        long tensor = x.numel() * 4;
        // x in, y out, and per channel: estimates read and written, batch moments written
        long minimum = 2 * tensor + 6L * 64 * 4;
        assertEquals(minimum, CudaNormFamiliesTestSupport.globalBytes(k), "EstBN forward moves x, y and 6 C-vectors: " + k);
    }

    @Test
    @CoversKernels(module = MODULE, value = {"bcn_expand_groups_f64", "bcn_sum_groups_f64"})
    void gradcheckOfTheStagesOnTheGpu() {
        Tensor x = gpu(cpuRandn(11, DType.F64, 2, 4, 2, 2)).requiresGrad(true);
        Tensor w = gpu(cpuRandn(12, DType.F64, 2)).requiresGrad(true);
        Tensor b = gpu(cpuRandn(13, DType.F64, 2)).requiresGrad(true);
        Gradcheck.assertPasses(in -> BatchChannelNormOp.groupNormGroupAffine(in[0], 2, in[1], in[2], 1e-5), x, w, b);
        // EstBN: the estimates are constants of the forward (eval mode keeps them fixed).
        Tensor em = gpu(cpuRandn(14, DType.F64, 4));
        Tensor ev = gpu(Ops.abs(cpuRandn(15, DType.F64, 4)));
        Tensor g1 = gpu(cpuRandn(16, DType.F64, 4)).requiresGrad(true);
        Tensor b1 = gpu(cpuRandn(17, DType.F64, 4)).requiresGrad(true);
        Gradcheck.assertPasses(in -> BatchChannelNormOp.estimatedBatchNorm(in[0], in[1], in[2], em, ev, 0.1, false,
                1e-5), x, g1, b1);
        assertNoFallback("batchChannelNorm");
    }

    @Test
    @CoversKernels(module = MODULE, value = {"bcn_update_estimates_f32", "bcn_sum_groups_f32"})
    void kernelsMoveTheirMinimumBytes() {
        int c = 1024;
        int g = 32;
        Tensor m = gpu(cpuRandn(21, DType.F32, c));
        Tensor v = gpu(Ops.abs(cpuRandn(22, DType.F32, c)));
        Tensor em = gpu(cpuRandn(23, DType.F32, c));
        Tensor ev = gpu(Ops.abs(cpuRandn(24, DType.F32, c)));
        Tensor pg = Tensor.zeros(Shape.of(g), DType.F32, m.device());
        Map<String, KernelCounters> k = countersDuring(() -> {
            m.backend().batchChannelNorm().updateEstimates(m, v, 0.1, em, ev);
            m.backend().batchChannelNorm().sumGroups(m, pg);
        });
        if (k.isEmpty()) {
            return; // a real GPU has no counters
        }
        assertEquals(6L * c * 4, k.get("bcn_update_estimates_f32").globalBytes(), "update: 4 vectors in, 2 out");
        assertEquals((long) (c + g) * 4, k.get("bcn_sum_groups_f32").globalBytes(), "sum: C in, G out");
    }
}
