package io.jnorm.nn.norm;

import static io.jnorm.nn.norm.TorchFixture.step;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.cuda.CudaBackend;
import io.jnorm.nn.BatchNorm1d;
import io.jnorm.nn.BatchNorm2d;
import io.jnorm.nn.GroupNorm;
import io.jnorm.nn.InstanceNorm2d;
import io.jnorm.nn.LayerNorm;
import io.jnorm.nn.Module;
import io.jnorm.ops.norm.NormOps;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Device;
import io.jnorm.tensor.Rng;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * BatchNorm1d/2d, GroupNorm, LayerNorm and InstanceNorm2d on the emulated GPU (the cuda backend
 * over the PTX emulator, sanitizer on) against the same modules on the CPU reference: several
 * training steps then an eval step, in float32 (tolerance from the accumulation length) and
 * float64 (tight), outputs, input and parameter gradients, running statistics; gradcheck in
 * float64 on the emulated device; PyTorch fixture cases on the emulated device; and, for every
 * call, that the norm kernels ran and nothing fell back to the host.
 */
class EmulatedNormLayersTest {
    private static final Device GPU = Device.emulatedGpu();

    /** kind, input shape, groups / normalized dims, train steps. */
    static Stream<Arguments> layers() {
        Object[][] rows = {
            {"bn2d (column kernels)", new int[] {2, 4, 5, 5}, 0, 3},
            {"bn2d 6x6 (statistic kernels)", new int[] {2, 3, 6, 6}, 0, 2},
            {"bn2d N=1", new int[] {1, 3, 4, 4}, 0, 2},
            {"bn2d H·W=1", new int[] {4, 3, 1, 1}, 0, 2},
            {"bn2d multi-block (streaming)", new int[] {2, 2, 80, 80}, 0, 1},
            {"bn1d", new int[] {6, 5}, 0, 2},
            {"bn1d multi-block (streaming)", new int[] {600, 70}, 0, 1},
            {"gn", new int[] {2, 6, 3, 3}, 3, 2},
            {"gn multi-block (streaming)", new int[] {1, 4, 64, 64}, 1, 1},
            {"ln", new int[] {3, 4, 8}, 1, 2},
            {"ln chw", new int[] {2, 3, 4, 4}, 3, 1},
            {"in tracked", new int[] {2, 3, 4, 4}, 0, 3},
            {"in affine untracked", new int[] {2, 3, 3, 3}, 0, 1},
        };
        Stream.Builder<Arguments> b = Stream.builder();
        for (Object[] r : rows) {
            for (DType t : DType.values()) {
                b.add(Arguments.of(r[0], r[1], r[2], r[3], t));
            }
        }
        return b.build();
    }

    private static Module build(String kind, int[] shape, int extra, DType t, Device d) {
        if (kind.startsWith("bn2d")) {
            return new BatchNorm2d(shape[1], 1e-5, 0.1, true, true, t, d);
        } else if (kind.startsWith("bn1d")) {
            return new BatchNorm1d(shape[1], 1e-5, null, true, true, t, d);
        } else if (kind.startsWith("gn")) {
            return new GroupNorm(extra, shape[1], 1e-5, true, t, d);
        } else if (kind.startsWith("ln")) {
            int[] ns = java.util.Arrays.copyOfRange(shape, shape.length - extra, shape.length);
            return new LayerNorm(ns, 1e-5, true, t, d);
        } else if (kind.equals("in tracked")) {
            return new InstanceNorm2d(shape[1], 1e-5, 0.1, false, true, t, d);
        }
        return new InstanceNorm2d(shape[1], 1e-5, 0.1, true, false, t, d);
    }

    @ParameterizedTest(name = "{0} {1} {4}")
    @MethodSource("layers")
    void trainingStepsThenEvalMatchTheCpu(String kind, int[] shape, int extra, int steps, DType t) {
        CudaBackend backend = CudaBackend.of(GPU);
        Map<String, Long> before = normLaunches(backend);
        try (Scope scope = Scope.open(); Module cpu = build(kind, shape, extra, t, Device.CPU);
             Module gpu = build(kind, shape, extra, t, GPU)) {
            Rng rng = new Rng(shape.length * 31L + steps);
            for (String p : new String[] {"weight", "bias"}) {
                if (cpu.parameter(p) != null) {
                    Tensor v = Tensor.rand(rng, 0.5, 1.5, cpu.parameter(p).shape(), t, Device.CPU);
                    cpu.parameter(p).backend().copy(v, cpu.parameter(p));
                    gpu.parameter(p).backend().copy(v.to(GPU), gpu.parameter(p));
                }
            }
            long m = elementsPerStat(kind, shape, extra);
            for (int k = 0; k <= steps; k++) {
                boolean train = k < steps;
                cpu.train(train);
                gpu.train(train);
                String at = kind + " " + t + (train ? " train step " + k : " eval");
                Tensor xc = Tensor.randn(rng, Shape.of(shape), t, Device.CPU).add(2.0).detach().requiresGrad(true);
                Tensor dy = Tensor.randn(rng, Shape.of(shape), t, Device.CPU);
                Tensor xg = xc.detach().to(GPU).requiresGrad(true);
                Tensor yc = cpu.forward(xc);
                Tensor yg = gpu.forward(xg);
                yc.backward(dy);
                yg.backward(dy.to(GPU));
                long terms = train ? m : 1;
                compare(at + " y", t, terms, yc, yg);
                compare(at + " dx", t, terms, xc.grad(), xg.grad());
                for (String p : new String[] {"weight", "bias"}) {
                    if (cpu.parameter(p) != null) {
                        long reduced = Shape.of(shape).numel() / cpu.parameter(p).numel();
                        compare(at + " d" + p, t, reduced, cpu.parameter(p).grad(), gpu.parameter(p).grad());
                    }
                }
                for (String buf : new String[] {"running_mean", "running_var"}) {
                    if (cpu.buffer(buf) != null) {
                        compare(at + " " + buf, t, m, cpu.buffer(buf), gpu.buffer(buf));
                    }
                }
                cpu.zeroGrad();
                gpu.zeroGrad();
            }
        }
        Map<String, Long> ran = diff(before, normLaunches(backend));
        long spatial = Shape.of(shape).numel() / shape[0] / shape[1];
        boolean columns = kind.startsWith("bn") && spatial < 32;  // short channels: column kernels
        boolean streaming = kind.contains("streaming");
        String forward = columns ? (streaming ? "norm_col_stats_" : "norm_col_fused_")
                : streaming ? "norm_moments_" : "norm_fwd_fused_";
        assertTrue(ran.keySet().stream().anyMatch(k -> k.startsWith(forward)),
                kind + ": expected " + forward + "* to run, ran " + ran);
        assertTrue(ran.keySet().stream().allMatch(k -> k.endsWith("_" + t.suffix())), kind + ": dtype of kernels " + ran);
        assertTrue(backend.launchLog().fallbackCounts().keySet().stream().noneMatch(k -> k.startsWith("norms.")),
                "the norm family fell back to the host: " + backend.launchLog().fallbackCounts());
    }

    /** Elements behind one statistic: the accumulation length that scales float32 rounding. */
    private static long elementsPerStat(String kind, int[] shape, int extra) {
        long spatial = Shape.of(shape).numel() / shape[0] / shape[1];
        if (kind.startsWith("bn")) {
            return shape[0] * spatial;
        } else if (kind.startsWith("gn")) {
            return shape[1] / extra * spatial;
        } else if (kind.startsWith("ln")) {
            return Shape.of(java.util.Arrays.copyOfRange(shape, shape.length - extra, shape.length)).numel();
        }
        return spatial;
    }

    /**
     * CPU (float64 arithmetic, one rounding) vs GPU: |gpu − cpu| ≤ 16·(terms + 8)·u·(1 + |cpu|), u the
     * unit roundoff of t; for float64 that is within a few hundred ulps.
     */
    private static void compare(String what, DType t, long terms, Tensor cpu, Tensor gpu) {
        assertNotNull(cpu, what + ": CPU value missing");
        assertNotNull(gpu, what + ": GPU value missing");
        assertEquals(GPU, gpu.device(), what + ": computed on the emulated GPU");
        double u = t == DType.F32 ? 0x1p-24 : 0x1p-53;
        double tol = 16.0 * (terms + 8) * u;
        Close.assertClose(what, cpu.toDoubleArray(), gpu.toDoubleArray(), tol, tol);
    }

    private static Map<String, Long> normLaunches(CudaBackend b) {
        Map<String, Long> m = new TreeMap<>();
        b.launchLog().launchCounts().forEach((k, v) -> {
            if (k.startsWith("norm_")) {
                m.put(k, v);
            }
        });
        return m;
    }

    private static Map<String, Long> diff(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> d = new TreeMap<>();
        after.forEach((k, v) -> {
            long n = v - before.getOrDefault(k, 0L);
            if (n > 0) {
                d.put(k, n);
            }
        });
        return d;
    }

    // ---- gradcheck on the emulated device -----------------------------------------------------

    private static Tensor rand(Rng rng, double lo, double hi, int... dims) {
        return Tensor.rand(rng, lo, hi, Shape.of(dims), DType.F64, GPU).requiresGrad(true);
    }

    static Stream<Arguments> gradchecks() {
        Rng rng = new Rng(7);
        Tensor rm = Tensor.rand(rng, -0.5, 0.5, Shape.of(3), DType.F64, GPU);
        Tensor rv = Tensor.rand(rng, 0.5, 1.5, Shape.of(3), DType.F64, GPU);
        Function<Tensor[], Tensor> bnTrain = in -> NormOps.batchNorm(in[0], null, null, in[1], in[2], true, 0.1, 1e-5);
        Function<Tensor[], Tensor> bnEval = in -> NormOps.batchNorm(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-5);
        Function<Tensor[], Tensor> gn = in -> NormOps.groupNorm(in[0], 3, in[1], in[2], 1e-5);
        Function<Tensor[], Tensor> ln = in -> NormOps.layerNorm(in[0], new int[] {3, 2}, in[1], in[2], 1e-5);
        Function<Tensor[], Tensor> inTrain = in -> NormOps.instanceNorm(in[0], null, null, in[1], in[2], true, 0.1,
                1e-5);
        Function<Tensor[], Tensor> inEval = in -> NormOps.instanceNorm(in[0], rm, rv, in[1], in[2], false, 0.1, 1e-5);
        return Stream.of(
                Arguments.of("batchNorm train", bnTrain, new int[] {2, 3, 2, 2}, new int[] {3}),
                Arguments.of("batchNorm train N=1", bnTrain, new int[] {1, 3, 2, 2}, new int[] {3}),
                Arguments.of("batchNorm eval", bnEval, new int[] {2, 3, 2, 2}, new int[] {3}),
                Arguments.of("groupNorm", gn, new int[] {2, 6, 2, 1}, new int[] {6}),
                Arguments.of("layerNorm", ln, new int[] {2, 3, 2}, new int[] {3, 2}),
                Arguments.of("instanceNorm train", inTrain, new int[] {2, 3, 2, 2}, new int[] {3}),
                Arguments.of("instanceNorm eval", inEval, new int[] {2, 3, 2, 2}, new int[] {3}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("gradchecks")
    void gradcheckOnTheEmulatedGpu(String name, Function<Tensor[], Tensor> fn, int[] xShape, int[] affineShape) {
        Rng rng = new Rng(name.hashCode());
        try (Scope scope = Scope.open()) {
            Tensor x = rand(rng, -1, 1, xShape);
            Tensor w = rand(rng, 0.5, 1.5, affineShape);
            Tensor b = rand(rng, -0.5, 0.5, affineShape);
            Gradcheck.Result r = Gradcheck.check(fn, x, w, b);
            assertTrue(r.passed(), name + ": " + r.message());
            assertEquals(GPU, fn.apply(new Tensor[] {x, w, b}).device());
        }
    }

    // ---- PyTorch fixtures on the emulated device -----------------------------------------------

    static Stream<String> fixtureCases() {
        return Stream.of("bn_torch/train_n2_c3_h4_w4_3steps", "bn_torch/eval_n2_c3_h4_w4",
                "bn_torch/train_momentum_none_4steps", "bn_torch/train_n3_c4_l6_bn1d_3steps",
                "bn_torch/train_zero_var_channel_n4_c3_h3_w3_2steps", "bn_torch/train_nan_input_n3_c3_h3_w3_1step",
                "gn_torch/n2_c6_g3_h4_w4", "gn_torch/n2_c6_g3_nan_input", "gn_torch/n2_c6_g3_zero_var_group",
                "ln_torch/n2_c3_h4_w4_ns_hw", "ln_torch/n3_d1_single_element",
                "in_torch/tracked_train_n3_c2_h3_w3_3steps");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtureCases")
    void pytorchFixturesOnTheEmulatedGpu(String id) {
        String[] parts = id.split("/");
        TorchFixture f = TorchFixture.cases(parts[0]).stream().filter(c -> c.name.equals(parts[1])).findFirst()
                .orElseThrow(() -> new AssertionError("fixture " + id + " missing"));
        try (Scope scope = Scope.open(); Module m = fixtureModule(f)) {
            for (String p : new String[] {"weight", "bias"}) {
                if (f.has(p)) {
                    m.parameter(p).backend().copy(f.tensor(p, DType.F64).to(GPU), m.parameter(p));
                }
            }
            for (String buf : new String[] {"running_mean", "running_var"}) {
                if (f.has(buf + "_init")) {
                    m.buffer(buf).backend().copy(f.tensor(buf + "_init", DType.F64).to(GPU), m.buffer(buf));
                }
            }
            m.train(!f.eval());
            for (int k = 0; k < f.steps(); k++) {
                Tensor x = f.tensor(step(k, "x"), DType.F64).to(GPU).requiresGrad(true);
                Tensor y = m.forward(x);
                y.backward(f.tensor(step(k, "dy"), DType.F64).to(GPU));
                String at = f + " step " + k;
                Close.assertClose(at + " y", f.array(step(k, "y")).doubles(), y.toDoubleArray(), 1e-10, 1e-10);
                Close.assertClose(at + " dx", f.array(step(k, "dx")).doubles(), x.grad().toDoubleArray(), 1e-10, 1e-10);
                for (String p : new String[] {"weight", "bias"}) {
                    if (f.has(step(k, "d" + p))) {
                        Close.assertClose(at + " d" + p, f.array(step(k, "d" + p)).doubles(),
                                m.parameter(p).grad().toDoubleArray(), 1e-10, 1e-10);
                    }
                }
                for (String buf : new String[] {"running_mean", "running_var"}) {
                    if (f.has(step(k, buf))) {
                        Close.assertClose(at + " " + buf, f.array(step(k, buf)).doubles(),
                                m.buffer(buf).toDoubleArray(), 1e-10, 1e-10);
                    }
                }
                m.zeroGrad();
            }
        }
    }

    private static Module fixtureModule(TorchFixture f) {
        int[] in = f.ints("input_shape");
        double eps = f.number("eps");
        return switch (f.method) {
            case "bn_torch" -> f.string("module").contains("BatchNorm1d")
                    ? new BatchNorm1d(in[1], eps, f.number("momentum"), f.flag("affine"), f.flag("track_running_stats"),
                            DType.F64, GPU)
                    : new BatchNorm2d(in[1], eps, f.number("momentum"), f.flag("affine"), f.flag("track_running_stats"),
                            DType.F64, GPU);
            case "gn_torch" -> new GroupNorm(f.number("num_groups").intValue(), in[1], eps, f.flag("affine"),
                    DType.F64, GPU);
            case "ln_torch" -> new LayerNorm(f.ints("normalized_shape"), eps, f.flag("elementwise_affine"), DType.F64,
                    GPU);
            case "in_torch" -> new InstanceNorm2d(in[1], eps, f.number("momentum"), f.flag("affine"),
                    f.flag("track_running_stats"), DType.F64, GPU);
            default -> throw new IllegalStateException("unknown method " + f.method);
        };
    }

    @Test
    void scopesReturnDeviceMemoryToTheBaseline() {
        CudaBackend backend = CudaBackend.of(GPU);
        long base = backend.bytesInUse();
        try (Scope scope = Scope.open(); Module m = new GroupNorm(2, 4, 1e-5, true, DType.F32, GPU)) {
            Tensor x = Tensor.randn(new Rng(3), Shape.of(2, 4, 3, 3), DType.F32, GPU).requiresGrad(true);
            m.forward(x).backward(Tensor.full(1.0, Shape.of(2, 4, 3, 3), DType.F32, GPU));
        }
        assertEquals(base, backend.bytesInUse(), "device bytes in use after the scope (norm workspaces released)");
    }
}
