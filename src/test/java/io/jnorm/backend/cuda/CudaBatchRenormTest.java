package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.assertNoFallback;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.closeTo;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.countersDuring;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.tol;
import static io.jnorm.backend.cuda.CudaTestSupport.cpu;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.device;
import static io.jnorm.backend.cuda.CudaTestSupport.eps;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.BatchRenormKernels;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.nn.BatchRenorm2d;
import io.jnorm.nn.RenormSchedule;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.BatchRenormOp;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
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
 * Batch Renorm's per-channel kernels (batch_renorm.cu) on the GPU against the CPU reference:
 * each kernel in float32 and float64 for one channel, a vector tail and several blocks, with the
 * clips active on both sides and a NaN channel; the op's training steps and inference, a
 * BatchRenorm2d trained for several steps on both devices (moving statistics compared), and
 * gradcheck in float64 on the GPU with r and d held fixed, as the method defines them.
 */
class CudaBatchRenormTest {
    private static final String MODULE = CudaBatchRenorm.MODULE;
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
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            // one channel; a tail; more channels than the emulated grid's 2048 threads (loops)
            for (int c : new int[] {1, 7, 3000}) {
                a.add(Arguments.of(t, c));
            }
        }
        return a.stream();
    }

    private static Tensor on(Tensor cpu, Device d) {
        return d.equals(Device.CPU) ? cpu : gpu(cpu);
    }

    /** Every kernel once, on one device; outputs (and the in-place moving statistics) in order. */
    private static List<Tensor> all(Device d, DType t, int c, boolean affine) {
        double[] var = Ops.abs(cpuRandn(2, DType.F64, c)).toDoubleArray();
        double[] std = Ops.abs(cpuRandn(4, DType.F64, c)).toDoubleArray();
        for (int i = 0; i < c; i++) {
            std[i] = 0.2 + std[i];
        }
        if (c > 1) {
            var[1] = Double.NaN; // a broken channel stays visibly broken
            std[0] = 1e-4; // below sqrt(eps): the floor
        }
        Tensor mb = on(cpuRandn(1, t, c), d);
        Tensor vb = on(cpu(var, t, c), d);
        Tensor mm = on(cpuRandn(3, t, c), d);
        Tensor ms = on(cpu(std, t, c), d);
        Tensor gamma = affine ? on(cpuRandn(5, t, c), d) : null;
        Tensor beta = affine ? on(cpuRandn(6, t, c), d) : null;
        BatchRenormKernels k = mb.backend().batchRenorm();
        Tensor r = Tensor.zeros(mb.shape(), t, d);
        Tensor dd = Tensor.zeros(mb.shape(), t, d);
        // rmax 1.5, dmax 0.5: with these spreads some channels clip on each side, some do not
        k.correction(mb, vb, mm, ms, 1e-3, 1.5, 0.5, r, dd);
        Tensor scale = Tensor.zeros(mb.shape(), t, d);
        Tensor shift = Tensor.zeros(mb.shape(), t, d);
        k.foldAffine(gamma, beta, r, dd, scale, shift);
        Tensor dg = Tensor.zeros(mb.shape(), t, d);
        k.gammaGrad(on(cpuRandn(7, t, c), d), on(cpuRandn(8, t, c), d), r, dd, dg);
        k.updateMoving(mb, vb, 1e-3, 0.1, mm, ms);
        Tensor mv = Tensor.zeros(mb.shape(), t, d);
        k.movingVariance(ms, 1e-3, mv);
        return List.of(r, dd, scale, shift, dg, mm, ms, mv);
    }

    @ParameterizedTest(name = "{0} C={1}")
    @MethodSource("cases")
    @CoversKernels(module = MODULE, value = {"brn_correction_f32", "brn_correction_f64", "brn_fold_affine_f32",
        "brn_fold_affine_f64", "brn_gamma_grad_f32", "brn_gamma_grad_f64", "brn_update_moving_f32",
        "brn_update_moving_f64", "brn_moving_variance_f32", "brn_moving_variance_f64"})
    void everyKernelMatchesTheReference(DType t, int c) {
        for (boolean affine : new boolean[] {true, false}) {
            List<Tensor> ref = all(Device.CPU, t, c, affine);
            List<List<Tensor>> got = new ArrayList<>();
            Map<String, Long> l = launchesDuring(() -> got.add(all(device(), t, c, affine)));
            for (String k : List.of("brn_correction", "brn_fold_affine", "brn_gamma_grad", "brn_update_moving",
                    "brn_moving_variance")) {
                assertEquals(1L, l.getOrDefault(k + "_" + t.suffix(), 0L), k + " ran once: " + l);
            }
            String[] names = {"r", "d", "scale", "shift", "dgamma", "movingMean", "movingStd", "movingVariance"};
            // Both sides compute in double and round once, but nvcc contracts a·b + c into an FMA:
            // the double results differ by an ulp of the terms (visible where γ·d + β cancels),
            // which can also flip the final rounding to float. Hence 4 u scaled by magnitude.
            for (int i = 0; i < ref.size(); i++) {
                closeTo(ref.get(i).toDoubleArray(), got.get(0).get(i).toDoubleArray(), 4 * eps(t),
                        t + " C=" + c + " affine=" + affine + ": " + names[i]);
            }
        }
        assertNoFallback("batchRenorm");
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"brn_correction_f32", "brn_correction_f64", "brn_update_moving_f32",
        "brn_update_moving_f64", "brn_moving_variance_f32", "brn_moving_variance_f64"})
    void aLayerTrainsAndEvaluatesLikeTheCpu(DType t) {
        int[] shape = {3, 4, 2, 3};
        // fixed limits small enough that r and d clip after the first steps move the statistics
        BatchRenorm2d cpu = BatchRenorm2d.builder(4).dtype(t).device(Device.CPU).momentum(0.3)
                .schedule(RenormSchedule.fixed(1.2, 0.3)).build();
        BatchRenorm2d gpu = BatchRenorm2d.builder(4).dtype(t).device(device()).momentum(0.3)
                .schedule(RenormSchedule.fixed(1.2, 0.3)).build();
        double tol = tol(t, 4L * 18);
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 4, tol, 10, "BatchRenorm2d train " + t);
        cpu.eval();
        gpu.eval();
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 1, tol, 30, "BatchRenorm2d eval " + t);
        // modules keep their tensors beyond the scope (state outlives a step): free them
        cpu.close();
        gpu.close();
        // channels of 2·32 values: the fused norm_fwd_renorm forward, its scale feeding the backward
        int[] fits = {2, 3, 4, 8};
        BatchRenorm2d cpuF = BatchRenorm2d.builder(3).dtype(t).device(Device.CPU).momentum(0.3)
                .schedule(RenormSchedule.fixed(1.2, 0.3)).build();
        BatchRenorm2d gpuF = BatchRenorm2d.builder(3).dtype(t).device(device()).momentum(0.3)
                .schedule(RenormSchedule.fixed(1.2, 0.3)).build();
        Map<String, Long> l = launchesDuring(() -> CudaNormFamiliesTestSupport.parity(cpuF, gpuF, t, fits, 3,
                tol(t, 64), 70, "BatchRenorm2d fused train " + t));
        assertEquals(3L, l.get("norm_fwd_renorm_" + t.suffix()), "one fused forward per step: " + l);
        cpuF.close();
        gpuF.close();
        assertNoFallback("batchRenorm");
    }

    @ParameterizedTest(name = "N={0} H={1} W={2}")
    @MethodSource("opShapes")
    @CoversKernels(module = MODULE, value = {"brn_correction_f64", "brn_fold_affine_f64", "brn_gamma_grad_f64",
        "brn_update_moving_f64"})
    void trainingStepsOnTheGpuMatchTheCpuAndGradcheckWithFixedCorrection(int n, int h, int w) {
        int c = 3;
        Tensor mmC = Tensor.zeros(io.jnorm.tensor.Shape.of(c), DType.F64, Device.CPU);
        Tensor msC = Tensor.full(1.0, io.jnorm.tensor.Shape.of(c), DType.F64, Device.CPU);
        Tensor mmG = gpu(mmC);
        Tensor msG = gpu(msC);
        Tensor gamma = cpuRandn(12, DType.F64, c);
        Tensor beta = cpuRandn(13, DType.F64, c);
        for (int step = 0; step < 3; step++) {
            Tensor x = Ops.add(Ops.mul(cpuRandn(20 + step, DType.F64, n, c, h, w), Ops.scalarLike(gamma, 3.0)),
                    Ops.scalarLike(gamma, step));
            BatchRenormOp.Step ref = BatchRenormOp.train(x, gamma, beta, mmC, msC, 1.5, 0.5, 0.2, 1e-5);
            BatchRenormOp.Step got = BatchRenormOp.train(gpu(x), gpu(gamma), gpu(beta), mmG, msG, 1.5, 0.5, 0.2, 1e-5);
            double tol = tol(DType.F64, 8);
            closeTo(ref.y().toDoubleArray(), got.y().toDoubleArray(), tol, "y step " + step);
            closeTo(ref.r().toDoubleArray(), got.r().toDoubleArray(), tol, "r step " + step);
            closeTo(ref.d().toDoubleArray(), got.d().toDoubleArray(), tol, "d step " + step);
            closeTo(mmC.toDoubleArray(), mmG.toDoubleArray(), tol, "moving mean step " + step);
            closeTo(msC.toDoubleArray(), msG.toDoubleArray(), tol, "moving std step " + step);
        }
        Tensor r = gpu(cpu(new double[] {1.5, 0.8, 1.1}, DType.F64, c));
        Tensor d = gpu(cpu(new double[] {-0.5, 0.2, 0.4}, DType.F64, c));
        Tensor x = gpu(cpuRandn(30, DType.F64, n, c, h, w)).requiresGrad(true);
        Gradcheck.assertPasses(in -> BatchRenormOp.trainWithCorrection(in[0], in[1], in[2], r, d, 1e-5), x,
                gpu(gamma).requiresGrad(true), gpu(beta).requiresGrad(true));
        Gradcheck.assertPasses(in -> BatchRenormOp.eval(in[0], in[1], in[2], mmG, msG, 1e-5), x,
                gpu(gamma).requiresGrad(true), gpu(beta).requiresGrad(true));
        assertNoFallback("batchRenorm");
    }

    static Stream<Arguments> fusedShapes() {
        // [N, C, H, W]: channels of 64 and 3·40 values (16-byte vectors and a scalar-path run) take
        // the fused norm_fwd_renorm; 2x3 maps take the column kernels and the unfused calls
        int[][] shapes = {{1, 3, 8, 8}, {3, 5, 5, 8}, {3, 4, 2, 3}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int[] s : shapes) {
                for (boolean affine : new boolean[] {true, false}) {
                    a.add(Arguments.of(t, s, affine));
                }
            }
        }
        return a.stream();
    }

    /** y, batch mean / var, r, d, scale, moving mean / std after one trainForward. */
    private static List<Tensor> trainForward(Device dev, DType t, int[] shape, boolean affine) {
        int c = shape[1];
        // a shifted, scaled input against moving statistics near 0 / 1: r and d clip in some channels
        Tensor x = on(Ops.add(Ops.mul(cpuRandn(51, t, shape), Ops.scalarLike(cpuRandn(1, t, 1), 2.5)),
                Ops.scalarLike(cpuRandn(1, t, 1), 0.7)), dev);
        Tensor gamma = affine ? on(cpuRandn(52, t, c), dev) : null;
        Tensor beta = affine ? on(cpuRandn(53, t, c), dev) : null;
        Tensor mm = on(cpuRandn(54, t, c), dev);
        Tensor ms = on(Ops.abs(cpuRandn(55, t, c)), dev);
        io.jnorm.tensor.Shape cs = io.jnorm.tensor.Shape.of(c);
        List<Tensor> out = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            out.add(Tensor.zeros(cs, t, dev));
        }
        Tensor y = Tensor.zeros(x.shape(), t, dev);
        x.backend().batchRenorm().trainForward(x, io.jnorm.backend.NormLayout.perChannel(shape[0], c,
                shape[2] * shape[3]), gamma, beta, mm, ms, 1e-5, 1.5, 0.5, 0.2, out.get(0), out.get(1), out.get(2),
                out.get(3), out.get(4), y);
        List<Tensor> all = new ArrayList<>(List.of(y));
        all.addAll(out);
        all.add(mm);
        all.add(ms);
        return all;
    }

    @ParameterizedTest(name = "{0} {1} affine={2}")
    @MethodSource("fusedShapes")
    @CoversKernels(module = CudaNormPtx.MODULE, value = {"norm_fwd_renorm_f32", "norm_fwd_renorm_f64"})
    void trainForwardMatchesTheReferenceInOneLaunchWhenAChannelFits(DType t, int[] shape, boolean affine) {
        List<Tensor> ref = trainForward(Device.CPU, t, shape, affine);
        List<List<Tensor>> got = new ArrayList<>();
        Map<String, Long> l = launchesDuring(() -> got.add(trainForward(device(), t, shape, affine)));
        String what = t + " " + java.util.Arrays.toString(shape) + " affine=" + affine;
        if (shape[2] * shape[3] >= 32) {
            assertEquals(Map.of("norm_fwd_renorm_" + t.suffix(), 1L), l, what + ": one fused launch");
        }
        String[] names = {"y", "batchMean", "batchVar", "r", "d", "scale", "movingMean", "movingStd"};
        long count = (long) shape[0] * shape[2] * shape[3];
        for (int i = 0; i < ref.size(); i++) {
            closeTo(ref.get(i).toDoubleArray(), got.get(0).get(i).toDoubleArray(), tol(t, count), what + ": " + names[i]);
        }
        assertNoFallback("batchRenorm");
    }

    @Test
    @CoversKernels(module = CudaNormPtx.MODULE, value = "norm_fwd_renorm_f32")
    void fusedTrainForwardReadsTheInputOnce() {
        int c = 64;
        Tensor x = gpu(cpuRandn(61, DType.F32, 4, c, 8, 8));
        Tensor mm = gpu(cpuRandn(62, DType.F32, c));
        Tensor ms = gpu(Ops.abs(cpuRandn(63, DType.F32, c)));
        Tensor gamma = gpu(cpuRandn(64, DType.F32, c));
        Tensor beta = gpu(cpuRandn(65, DType.F32, c));
        Tensor[] v = new Tensor[5];
        for (int i = 0; i < v.length; i++) {
            v[i] = Tensor.zeros(mm.shape(), DType.F32, mm.device());
        }
        Tensor y = Tensor.zeros(x.shape(), DType.F32, x.device());
        Map<String, KernelCounters> k = countersDuring(() -> x.backend().batchRenorm().trainForward(x,
                io.jnorm.backend.NormLayout.perChannel(4, c, 64), gamma, beta, mm, ms, 1e-5, 2, 1, 0.1, v[0], v[1],
                v[2], v[3], v[4], y));
        if (k.isEmpty()) {
            return; // a real GPU has no counters
        }
        // x in, y out; per channel γ, β and the moving statistics in, 5 vectors and the statistics out
        long minimum = 2L * x.numel() * 4 + 11L * c * 4;
        assertEquals(minimum, CudaNormFamiliesTestSupport.globalBytes(k), "BRN forward bytes: " + k);
    }

    /** A batch with tails, N = 1, and N·H·W = 1 (legal for BRN: y = γ·d + β, dx = 0). */
    static Stream<Arguments> opShapes() {
        return Stream.of(Arguments.of(2, 2, 2), Arguments.of(1, 3, 5), Arguments.of(1, 1, 1));
    }

    @Test
    @CoversKernels(module = MODULE, value = {"brn_correction_f32", "brn_update_moving_f32"})
    void perChannelKernelsMoveTheirMinimumBytes() {
        int c = 1000;
        Tensor mb = gpu(cpuRandn(40, DType.F32, c));
        Tensor vb = gpu(Ops.abs(cpuRandn(41, DType.F32, c)));
        Tensor mm = gpu(cpuRandn(42, DType.F32, c));
        Tensor ms = gpu(Ops.abs(cpuRandn(43, DType.F32, c)));
        Tensor r = Tensor.zeros(mb.shape(), DType.F32, mb.device());
        Tensor d = Tensor.zeros(mb.shape(), DType.F32, mb.device());
        Map<String, KernelCounters> k = countersDuring(() -> {
            mb.backend().batchRenorm().correction(mb, vb, mm, ms, 1e-5, 2, 1, r, d);
            mb.backend().batchRenorm().updateMoving(mb, vb, 1e-5, 0.1, mm, ms);
        });
        if (k.isEmpty()) {
            return; // a real GPU has no counters
        }
        // correction: 4 vectors in, 2 out; update: 4 in, 2 out (in place): each value moved once.
        assertEquals(6L * c * 4, k.get("brn_correction_f32").globalBytes(), "correction bytes");
        assertEquals(6L * c * 4, k.get("brn_update_moving_f32").globalBytes(), "update bytes");
        assertTrue(k.get("brn_correction_f32").loadSectorsPerRequest() <= 4.4, "coalesced loads: "
                + k.get("brn_correction_f32").loadSectorsPerRequest());
    }
}
