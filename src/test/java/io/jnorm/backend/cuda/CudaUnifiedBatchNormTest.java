package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.assertNoFallback;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.closeTo;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.countersDuring;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.tol;
import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.device;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.UnifiedBatchNormKernels;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.nn.UnifiedBatchNorm2d;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.UnifiedBatchNormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
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
 * Unified BN kernels (unified_batch_norm.cu) on the GPU against the CPU reference: the gate's
 * cosine statistic (1 sample, the 16-sample cap, several feature blocks, a zero sample), the
 * centering / calibration / depthwise-conv chain and its backward in float32 and float64 over
 * planes cached on chip and planes too large for it, k = 3 and 5, no conv, H·W = 1, N = 1;
 * gradcheck in float64 of the op on the GPU; a UnifiedBatchNorm2d trained for several steps on
 * both devices; global bytes at each kernel's minimum.
 */
class CudaUnifiedBatchNormTest {
    private static final String MODULE = CudaUnifiedBatchNorm.MODULE;
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

    private static Tensor on(Tensor cpu, Device d) {
        return d.equals(Device.CPU) ? cpu : gpu(cpu);
    }

    static Stream<Arguments> cosineCases() {
        // shape, samples: one sample; several feature blocks; the 16 cap over 20; 20 of 20 (two
        // sample blocks, a ragged one); 40 (three sample blocks, six block pairs); F = 3
        Object[][] cases = {{new int[] {1, 3, 2, 2}, 16}, {new int[] {5, 2, 7, 11}, 16}, {new int[] {20, 3, 2, 2}, 16},
            {new int[] {20, 3, 2, 2}, 20}, {new int[] {40, 1, 3, 3}, 64}, {new int[] {4, 1, 1, 3}, 16}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (Object[] c : cases) {
                a.add(Arguments.of(t, c[0], c[1]));
            }
        }
        return a.stream();
    }

    @ParameterizedTest(name = "{0} {1} samples={2}")
    @MethodSource("cosineCases")
    @CoversKernels(module = MODULE, value = {"ubn_cosine_f32", "ubn_cosine_f64"})
    void cosineGateStatisticMatchesTheReference(DType t, int[] s, int samples) {
        double[] v = cpuRandn(31, DType.F64, s).toDoubleArray();
        int f = v.length / s[0];
        for (int i = 0; i < v.length; i++) {
            // a shared component makes the samples similar; sample 1 (when present) is all zero
            v[i] = i / f == 1 && s[0] > 2 ? 0.0 : v[i] + 0.7 * Math.sin(i % f);
        }
        Tensor x = Tensor.fromDoubles(v, Shape.of(s), t, Device.CPU);
        Tensor ref = Tensor.zeros(Shape.of(1), DType.F64, Device.CPU);
        x.backend().unifiedBatchNorm().meanPairwiseCosine(x, samples, ref);
        Tensor gx = gpu(x);
        Tensor out = Tensor.zeros(Shape.of(1), DType.F64, gx.device());
        Map<String, Long> l = launchesDuring(() -> gx.backend().unifiedBatchNorm().meanPairwiseCosine(gx, samples,
                out));
        assertEquals(Map.of("ubn_cosine_" + t.suffix(), 1L), l);
        // Both sides accumulate in double over at most 16·F products of the same values.
        assertClose(ref.toDoubleArray(), out.toDoubleArray(), 1e-13, 1e-12, "cosine " + t + " " + Shape.of(s));
        assertNoFallback("unifiedBatchNorm");
    }

    static Stream<Arguments> chainCases() {
        // shape, k (0 = no conv)
        Object[][] c = {{new int[] {2, 3, 4, 4}, 3}, {new int[] {1, 2, 3, 5}, 3}, {new int[] {3, 2, 1, 1}, 3},
            {new int[] {2, 2, 5, 6}, 5}, {new int[] {2, 3, 4, 3}, 0}, {new int[] {1, 1, 72, 72}, 3},
            // more planes and channels (70) than the emulated grid's blocks (64): blocks loop
            {new int[] {1, 70, 2, 2}, 3}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (Object[] o : c) {
                a.add(Arguments.of(t, o[0], o[1]));
            }
        }
        return a.stream();
    }

    /** center, calibrate+affine, their backward, on one device; every output in order. */
    private static List<Tensor> chain(Device d, DType t, int[] s, int k) {
        int n = s[0];
        int c = s[1];
        Tensor x = on(cpuRandn(41, t, s), d);
        Tensor wc = on(cpuRandn(42, t, c), d);
        Tensor xhat = on(cpuRandn(43, t, s), d);
        Tensor ws = on(cpuRandn(44, t, c), d);
        Tensor bs = on(cpuRandn(45, t, c), d);
        Tensor kw = k == 0 ? null : on(cpuRandn(46, t, c, 1, k, k), d);
        Tensor kb = k == 0 ? null : on(cpuRandn(47, t, c), d);
        Tensor dy = on(cpuRandn(48, t, s), d);
        Tensor dxc = on(cpuRandn(49, t, s), d);
        UnifiedBatchNormKernels u = x.backend().unifiedBatchNorm();
        Tensor a = Tensor.zeros(Shape.of(n, c), t, d);
        Tensor xc = Tensor.zeros(Shape.of(s), t, d);
        u.center(x, wc, a, xc);
        Tensor sc = Tensor.zeros(Shape.of(n, c), t, d);
        Tensor z = k == 0 ? null : Tensor.zeros(Shape.of(s), t, d);
        Tensor y = Tensor.zeros(Shape.of(s), t, d);
        u.calibrateAndAffine(xhat, ws, bs, kw, kb, sc, z, y);
        Tensor dxhat = Tensor.zeros(Shape.of(s), t, d);
        Tensor dws = Tensor.zeros(Shape.of(c), t, d);
        Tensor dbs = Tensor.zeros(Shape.of(c), t, d);
        Tensor dk = k == 0 ? null : Tensor.zeros(Shape.of(c, 1, k, k), t, d);
        Tensor dkb = k == 0 ? null : Tensor.zeros(Shape.of(c), t, d);
        u.calibrateAndAffineBackward(dy, xhat, z, sc, ws, kw, dxhat, dws, dbs, dk, dkb);
        Tensor dx = Tensor.zeros(Shape.of(s), t, d);
        Tensor dwc = Tensor.zeros(Shape.of(c), t, d);
        u.centerBackward(dxc, a, wc, dx, dwc);
        List<Tensor> out = new ArrayList<>(List.of(a, xc, sc, y, dxhat, dws, dbs, dx, dwc));
        if (k != 0) {
            out.addAll(List.of(z, dk, dkb));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} k={2}")
    @MethodSource("chainCases")
    @CoversKernels(module = MODULE, value = {"ubn_center_f32", "ubn_center_f64", "ubn_calibrate_f32",
        "ubn_calibrate_f64", "ubn_calibrate_backward_f32", "ubn_calibrate_backward_f64", "ubn_center_backward_f32",
        "ubn_center_backward_f64"})
    void kernelChainMatchesTheReference(DType t, int[] s, int k) {
        List<Tensor> ref = chain(Device.CPU, t, s, k);
        List<List<Tensor>> got = new ArrayList<>();
        Map<String, Long> l = launchesDuring(() -> got.add(chain(device(), t, s, k)));
        for (String name : List.of("ubn_center", "ubn_calibrate", "ubn_calibrate_backward", "ubn_center_backward")) {
            assertEquals(1L, l.getOrDefault(name + "_" + t.suffix(), 0L), name + " ran once: " + l);
        }
        assertNoFallback("unifiedBatchNorm");
        String[] names = {"a", "xc", "s", "y", "dxhat", "dScaleWeight", "dScaleBias", "dx", "dCenterWeight", "z",
            "dConvWeight", "dConvBias"};
        // The longest sums: dK and dw_s over N·H·W products.
        double tol = tol(t, 2L * s[0] * s[2] * s[3] + 25);
        for (int i = 0; i < ref.size(); i++) {
            closeTo(ref.get(i).toDoubleArray(), got.get(0).get(i).toDoubleArray(), tol,
                    t + " " + Shape.of(s) + " k=" + k + ": " + names[i]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = "F64")
    @CoversKernels(module = MODULE, value = {"ubn_center_f64", "ubn_calibrate_f64", "ubn_calibrate_backward_f64",
        "ubn_center_backward_f64"})
    void gradcheckOfTheOpOnTheGpu(DType t) {
        Tensor x = gpu(cpuRandn(51, t, 2, 2, 3, 3)).requiresGrad(true);
        Tensor wc = gpu(cpuRandn(52, t, 2)).requiresGrad(true);
        Tensor ws = gpu(cpuRandn(53, t, 2)).requiresGrad(true);
        Tensor bs = gpu(cpuRandn(54, t, 2)).requiresGrad(true);
        Tensor kw = gpu(cpuRandn(55, t, 2, 1, 3, 3)).requiresGrad(true);
        Tensor kb = gpu(cpuRandn(56, t, 2)).requiresGrad(true);
        Tensor rm = gpu(cpuRandn(57, t, 2));
        Tensor rv = gpu(Ops.abs(cpuRandn(58, t, 2)));
        for (boolean batch : new boolean[] {true, false}) {
            Gradcheck.assertPasses(in -> UnifiedBatchNormOps.unifiedBatchNorm2d(in[0], in[1], in[2], in[3], in[4],
                    in[5], rm, rv, batch, 1e-5).y(), x, wc, ws, bs, kw, kb);
            Gradcheck.assertPasses(in -> UnifiedBatchNormOps.unifiedBatchNorm2d(in[0], in[1], in[2], in[3], null,
                    null, rm, rv, batch, 1e-5).y(), x, wc, ws, bs);
        }
        assertNoFallback("unifiedBatchNorm");
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"ubn_cosine_f32", "ubn_cosine_f64", "ubn_center_f32", "ubn_center_f64",
        "ubn_calibrate_backward_f32", "ubn_calibrate_backward_f64"})
    void aLayerTrainsAndEvaluatesLikeTheCpu(DType t) {
        int[] shape = {3, 2, 3, 4};
        UnifiedBatchNorm2d cpu = UnifiedBatchNorm2d.builder(2).dtype(t).device(Device.CPU).rng(new Rng(5)).build();
        UnifiedBatchNorm2d gpu = UnifiedBatchNorm2d.builder(2).dtype(t).device(device()).rng(new Rng(5)).build();
        double tol = tol(t, 4L * 36 * 9);
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 3, tol, 70, "UnifiedBatchNorm2d train " + t);
        assertEquals(cpu.gateOpen(), gpu.gateOpen(), "gate state after training");
        cpu.eval();
        gpu.eval();
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 1, tol, 90, "UnifiedBatchNorm2d eval " + t);
        // modules keep their tensors beyond the scope (state outlives a step): free them
        cpu.close();
        gpu.close();
        assertNoFallback("unifiedBatchNorm");
    }

    @Test
    @CoversKernels(module = MODULE, value = {"ubn_cosine_f32", "ubn_center_f32", "ubn_calibrate_f32",
        "ubn_calibrate_backward_f32", "ubn_center_backward_f32"})
    void eachKernelMovesItsMinimumBytes() {
        int[] s = {2, 3, 8, 8};
        long tensor = 2L * 3 * 64 * 4;
        long small = 2L * 3 * 8 * 8 + 2048;
        Tensor x = gpu(cpuRandn(61, DType.F32, s));
        Map<String, KernelCounters> c = countersDuring(() -> chain(device(), DType.F32, s, 3));
        if (c.isEmpty()) {
            return; // a real GPU has no counters
        }
        // tensor transfers each kernel needs: center x → xc (2); calibrate x̂ → z, y (3);
        // backward dy, x̂, z → dx̂ (4); center backward dxc → dx (2).
        Map<String, Integer> transfers = Map.of("ubn_center_f32", 2, "ubn_calibrate_f32", 3,
                "ubn_calibrate_backward_f32", 4, "ubn_center_backward_f32", 2);
        transfers.forEach((k, n) -> {
            long b = c.get(k).globalBytes();
            // the chain's own inputs are uploaded by host copies, which the counters do not see
            assertTrue(b >= n * tensor && b <= n * tensor + small, k + " moved " + b + " bytes, minimum " + n * tensor);
            assertEquals(0, c.get(k).atomics(), k + " uses no atomics");
        });
        // Coalescing: planes of 256 floats go as float4, a warp request then covers 512 contiguous
        // bytes (scalar loads would cover 128); every sector touched is used (the one-value loads
        // of w_c by thread 0 are the only partial sectors).
        int[] wide = {2, 3, 16, 16};
        Tensor xw = gpu(cpuRandn(62, DType.F32, wide));
        Tensor wc = gpu(cpuRandn(63, DType.F32, 3));
        Tensor a = Tensor.zeros(Shape.of(2, 3), DType.F32, xw.device());
        Tensor xc = Tensor.zeros(xw.shape(), DType.F32, xw.device());
        Tensor dx = Tensor.zeros(xw.shape(), DType.F32, xw.device());
        Tensor dwc = Tensor.zeros(Shape.of(3), DType.F32, xw.device());
        Map<String, KernelCounters> v = countersDuring(() -> {
            xw.backend().unifiedBatchNorm().center(xw, wc, a, xc);
            xw.backend().unifiedBatchNorm().centerBackward(xw, a, wc, dx, dwc);
        });
        for (KernelCounters k : v.values()) {
            double perRequest = (double) k.globalLoadBytes() / k.globalLoadRequests();
            double used = (double) k.globalLoadBytes() / (32.0 * k.globalLoadSectors());
            assertTrue(perRequest > 256, k.kernel() + ": " + perRequest + " bytes per load request");
            assertTrue(used >= 0.9, k.kernel() + ": " + used + " of the loaded sectors used");
        }
        Map<String, KernelCounters> cos = countersDuring(() -> UnifiedBatchNormOps.meanPairwiseCosine(x, 16));
        long read = cos.get("ubn_cosine_f32").globalLoadBytes();
        // x read once (16 samples: one block pair); partial Gram blocks (256 doubles per block) read
        // back once by the last block, and its diagonal entries once more per entry.
        assertTrue(read <= tensor + 3 * 8L * 256 * 8, "cosine read " + read + " bytes for a " + tensor
                + "-byte input");
    }
}
