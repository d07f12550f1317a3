package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.assertNoFallback;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.closeTo;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.countersDuring;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.globalBytes;
import static io.jnorm.backend.cuda.CudaNormFamiliesTestSupport.tol;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.device;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.SwitchableNormKernels;
import io.jnorm.backend.SwitchableNormKernels.Stats;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.nn.SwitchableNorm2d;
import io.jnorm.ops.Ops;
import io.jnorm.ops.norm.SwitchableNormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * Switchable Norm kernels (switchable_norm.cu) on the GPU against the CPU reference: the whole
 * kernel chain (statistics, forward, the three backward parts) in float32 and float64 with and
 * without BN, batch and running BN statistics, over shapes with vector rows, scalar tails, N = 1
 * and the smallest legal L = 2; gradcheck in float64 of the op on the GPU (train and eval); a
 * SwitchableNorm2d trained for several steps on both devices; launches and global bytes within
 * the budget (one norm's 3 forward / 5 backward tensor transfers).
 */
class CudaSwitchableNormTest {
    private static final String MODULE = CudaSwitchableNorm.MODULE;
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

    /** BN mode: none (2-way), batch statistics (training), running statistics (evaluation). */
    enum Bn { NONE, BATCH, RUNNING }

    static Stream<Arguments> cases() {
        // vector rows; N = 1 with a scalar tail; the smallest L; f64-only vectors; more rows (140)
        // and samples + channels (72) than the emulated grid's blocks (64): blocks loop
        int[][] shapes = {{2, 3, 4, 4}, {1, 5, 3, 3}, {3, 2, 1, 2}, {2, 4, 6, 1}, {2, 70, 1, 2}};
        List<Arguments> a = new ArrayList<>();
        for (DType t : DType.values()) {
            for (int[] s : shapes) {
                for (Bn bn : Bn.values()) {
                    a.add(Arguments.of(t, s, bn));
                }
            }
        }
        return a.stream();
    }

    /** Everything one SN call and its backward compute, on one device. */
    private record Run(Stats stats, Tensor y, Tensor mean, Tensor rstd, Tensor a, Tensor b, Tensor dGamma,
                       Tensor dBeta, Tensor dMean, Tensor dVar, Tensor dx) {
        List<Tensor> all() {
            List<Tensor> l = new ArrayList<>(List.of(stats.meanIn(), stats.varIn(), stats.meanLn(), stats.varLn()));
            if (stats.meanBn() != null) {
                l.add(stats.meanBn());
                l.add(stats.varBn());
            }
            l.addAll(List.of(y, mean, rstd, a, b, dGamma, dBeta, dMean, dVar, dx));
            return l;
        }
    }

    private static Tensor on(Tensor cpu, Device d) {
        return d.equals(Device.CPU) ? cpu : gpu(cpu);
    }

    /** The kernel chain the op runs, with inputs made on the CPU and copied to {@code d}. */
    private static Run chain(Device d, DType t, int[] s, Bn bn) {
        int n = s[0];
        int c = s[1];
        int terms = bn == Bn.NONE ? 2 : 3;
        Tensor x = on(cpuRandn(1, t, s), d);
        Tensor dy = on(cpuRandn(2, t, s), d);
        Tensor ml = on(cpuRandn(3, t, terms), d);
        Tensor vl = on(cpuRandn(4, t, terms), d);
        Tensor gamma = on(cpuRandn(5, t, c), d);
        Tensor beta = on(cpuRandn(6, t, c), d);
        SwitchableNormKernels k = x.backend().switchableNorm();
        boolean batch = bn == Bn.BATCH;
        Stats st = new Stats(Tensor.zeros(Shape.of(n, c), t, d), Tensor.zeros(Shape.of(n, c), t, d),
                Tensor.zeros(Shape.of(n), t, d), Tensor.zeros(Shape.of(n), t, d),
                batch ? Tensor.zeros(Shape.of(c), t, d) : null, batch ? Tensor.zeros(Shape.of(c), t, d) : null);
        k.statistics(x, st);
        if (bn == Bn.RUNNING) {
            Tensor rv = on(Ops.abs(cpuRandn(8, t, c)), d);
            st = new Stats(st.meanIn(), st.varIn(), st.meanLn(), st.varLn(), on(cpuRandn(7, t, c), d), rv);
        }
        Tensor y = Tensor.zeros(x.shape(), t, d);
        Tensor mean = Tensor.zeros(Shape.of(n, c), t, d);
        Tensor rstd = Tensor.zeros(Shape.of(n, c), t, d);
        k.forward(x, st, ml, vl, gamma, beta, 1e-5, y, mean, rstd);
        Tensor a = Tensor.zeros(Shape.of(n, c), t, d);
        Tensor b = Tensor.zeros(Shape.of(n, c), t, d);
        Tensor dg = Tensor.zeros(Shape.of(c), t, d);
        Tensor db = Tensor.zeros(Shape.of(c), t, d);
        k.backwardReduce(x, dy, mean, rstd, gamma, a, b, dg, db);
        Tensor dml = Tensor.zeros(Shape.of(terms), t, d);
        Tensor dvl = Tensor.zeros(Shape.of(terms), t, d);
        k.backwardLogits(a, b, st, ml, vl, dml, dvl);
        Tensor dx = Tensor.zeros(x.shape(), t, d);
        k.backwardInput(x, dy, a, b, st, rstd, gamma, ml, vl, batch, dx);
        return new Run(st, y, mean, rstd, a, b, dg, db, dml, dvl, dx);
    }

    @ParameterizedTest(name = "{0} {1} bn={2}")
    @MethodSource("cases")
    @CoversKernels(module = MODULE, value = {"sn_statistics_f32", "sn_statistics_f64", "sn_forward_f32",
        "sn_forward_f64", "sn_backward_reduce_f32", "sn_backward_reduce_f64", "sn_backward_logits_f32",
        "sn_backward_logits_f64", "sn_backward_sums_f32", "sn_backward_sums_f64", "sn_backward_input_f32",
        "sn_backward_input_f64"})
    void kernelChainMatchesTheReference(DType t, int[] s, Bn bn) {
        Run ref = chain(Device.CPU, t, s, bn);
        Run[] got = new Run[1];
        Map<String, Long> l = launchesDuring(() -> got[0] = chain(device(), t, s, bn));
        String suf = "_" + t.suffix();
        for (String k : List.of("sn_statistics", "sn_forward", "sn_backward_reduce", "sn_backward_logits",
                "sn_backward_sums", "sn_backward_input")) {
            assertEquals(1L, l.getOrDefault(k + suf, 0L), k + suf + " ran once: " + l);
        }
        assertNoFallback("switchableNorm");
        // The longest sums: the logits' dot products over N·C instances of L-long reductions.
        double tol = tol(t, (long) s[0] * s[1] * s[2] * s[3]);
        String[] names = {"meanIn", "varIn", "meanLn", "varLn", "meanBn", "varBn", "y", "mean", "rstd", "a", "b",
            "dGamma", "dBeta", "dMeanLogits", "dVarLogits", "dx"};
        List<Tensor> r = ref.all();
        List<Tensor> g = got[0].all();
        for (int i = 0, j = 0; i < r.size(); i++, j++) {
            if (ref.stats().meanBn() == null && j == 4) {
                j += 2;
            }
            closeTo(r.get(i).toDoubleArray(), g.get(i).toDoubleArray(), tol, t + " " + Shape.of(s) + " " + bn + ": "
                    + names[j]);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Bn.class, names = {"BATCH", "RUNNING", "NONE"})
    @CoversKernels(module = MODULE, value = {"sn_statistics_f64", "sn_forward_f64", "sn_backward_reduce_f64",
        "sn_backward_logits_f64", "sn_backward_sums_f64", "sn_backward_input_f64"})
    void gradcheckOfTheOpOnTheGpu(Bn bn) {
        int terms = bn == Bn.NONE ? 2 : 3;
        Tensor x = gpu(cpuRandn(11, DType.F64, 2, 3, 2, 3)).requiresGrad(true);
        Tensor ml = gpu(cpuRandn(12, DType.F64, terms)).requiresGrad(true);
        Tensor vl = gpu(cpuRandn(13, DType.F64, terms)).requiresGrad(true);
        Tensor gamma = gpu(cpuRandn(14, DType.F64, 3)).requiresGrad(true);
        Tensor beta = gpu(cpuRandn(15, DType.F64, 3)).requiresGrad(true);
        Tensor rm = gpu(cpuRandn(16, DType.F64, 3));
        Tensor rv = gpu(Ops.abs(cpuRandn(17, DType.F64, 3)));
        boolean training = bn != Bn.RUNNING;
        Gradcheck.assertPasses(in -> SwitchableNormOps.switchableNorm2d(in[0], in[1], in[2], in[3], in[4], rm, rv,
                training, 1e-5).y(), x, ml, vl, gamma, beta);
        assertNoFallback("switchableNorm");
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"sn_statistics_f32", "sn_statistics_f64", "sn_forward_f32",
        "sn_forward_f64", "sn_backward_input_f32", "sn_backward_input_f64"})
    void aLayerTrainsAndEvaluatesLikeTheCpu(DType t) {
        int[] shape = {2, 3, 3, 4};
        SwitchableNorm2d cpu = SwitchableNorm2d.builder(3).dtype(t).device(Device.CPU).build();
        SwitchableNorm2d gpu = SwitchableNorm2d.builder(3).dtype(t).device(device()).build();
        double tol = tol(t, 4L * 72);
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 3, tol, 40, "SwitchableNorm2d train " + t);
        cpu.eval();
        gpu.eval();
        CudaNormFamiliesTestSupport.parity(cpu, gpu, t, shape, 1, tol, 60, "SwitchableNorm2d eval " + t);
        // modules keep their tensors beyond the scope (state outlives a step): free them
        cpu.close();
        gpu.close();
        assertNoFallback("switchableNorm");
    }

    @Test
    @CoversKernels(module = MODULE, value = {"sn_statistics_f32", "sn_forward_f32", "sn_backward_reduce_f32",
        "sn_backward_logits_f32", "sn_backward_sums_f32", "sn_backward_input_f32"})
    void forwardAndBackwardStayWithinOneNormsBudget() {
        int[] s = {2, 4, 8, 8};
        long tensor = 2L * 4 * 64 * 4;
        Tensor x = gpu(cpuRandn(21, DType.F32, s)).requiresGrad(true);
        Tensor ml = gpu(cpuRandn(22, DType.F32, 3)).requiresGrad(true);
        Tensor vl = gpu(cpuRandn(23, DType.F32, 3)).requiresGrad(true);
        Tensor gamma = gpu(cpuRandn(24, DType.F32, 4)).requiresGrad(true);
        Tensor beta = gpu(cpuRandn(25, DType.F32, 4)).requiresGrad(true);
        Tensor dy = gpu(cpuRandn(26, DType.F32, s));
        Tensor[] y = new Tensor[1];
        Map<String, KernelCounters> fwd = countersDuring(() -> y[0] = SwitchableNormOps.switchableNorm2d(x, ml, vl,
                gamma, beta, null, null, true, 1e-5).y());
        Map<String, KernelCounters> bwd = countersDuring(() -> Ops.sum(Ops.mul(y[0], dy)).backward());
        if (fwd.isEmpty()) {
            return; // a real GPU has no counters
        }
        assertEquals(Set.of("sn_statistics_f32", "sn_forward_f32"), fwd.keySet(), "forward launches: 2");
        // Forward: x read twice, y written once (3 transfers), plus the N·C / N / C statistics.
        long small = 64L * 4 * 8 * 4;
        assertTrue(globalBytes(fwd) <= 3 * tensor + small, "forward moved " + globalBytes(fwd) + " bytes, budget "
                + (3 * tensor + small));
        long snBwd = bwd.entrySet().stream().filter(e -> e.getKey().startsWith("sn_"))
                .mapToLong(e -> e.getValue().globalBytes()).sum();
        // Backward: x and dy read twice each, dx written once (5 transfers), plus per-instance values.
        assertTrue(snBwd <= 5 * tensor + small, "backward moved " + snBwd + " bytes, budget " + (5 * tensor + small));
        // Rows of 64 floats as float4: a warp request covers 512 contiguous bytes, 16 sectors.
        KernelCounters f = fwd.get("sn_forward_f32");
        assertTrue(f.loadSectorsPerRequest() <= 16 * 1.1, "sn_forward sectors per load request "
                + f.loadSectorsPerRequest());
        assertEquals(0, fwd.get("sn_forward_f32").atomics(), "no atomics in the normalize");
    }
}
