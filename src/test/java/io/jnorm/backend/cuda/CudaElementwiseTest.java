package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.assertClose;
import static io.jnorm.backend.cuda.CudaTestSupport.assertLaunched;
import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.cpu;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.eps;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static io.jnorm.backend.cuda.CudaTestSupport.launchesDuring;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.autograd.Gradcheck;
import io.jnorm.backend.BinaryOp;
import io.jnorm.backend.UnaryOp;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.ops.Ops;
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
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Elementwise kernels on the GPU against the CPU reference: every unary op forward and backward,
 * binary ops on same-shape, scalar and broadcast operands, pow, and casts; sizes with vector tails
 * (not multiples of 4 or 2), a single block and grids that loop; gradcheck in float64; the bytes
 * each kernel moves against the minimum.
 *
 * <p>Tolerances: the reference rounds a float64 result once; the GPU computes in the dtype with
 * CUDA's libm (exp, log, tanh, pow within 2 to 4 ulp) and one or two roundings per operation, so
 * results agree within a few units of roundoff: 16 u relative.
 */
class CudaElementwiseTest {
    private static final String MODULE = "elementwise";
    private static final CudaTestSupport.Claims CLAIMS = new CudaTestSupport.Claims();
    /** 1 element; 7 = a vector and a tail (f32); 4099 = several blocks, tail 3 (f32) / 1 (f64), looping grid. */
    private static final int[] SIZES = {1, 7, 4099};

    private Scope scope;

    @BeforeEach
    void open(TestInfo info) {
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

    static double rtol(DType t) {
        return 16 * eps(t);
    }

    static Stream<Arguments> unaryCases() {
        List<Arguments> a = new ArrayList<>();
        for (UnaryOp op : UnaryOp.values()) {
            for (DType t : DType.values()) {
                for (int n : SIZES) {
                    a.add(Arguments.of(op, t, n));
                }
            }
        }
        return a.stream();
    }

    /** Inputs in each op's domain: positive for log and sqrt, spread over [-4, 4] otherwise. */
    static Tensor input(UnaryOp op, DType t, int n, long seed) {
        double[] v = cpuRandn(seed, DType.F64, n).toDoubleArray();
        for (int i = 0; i < n; i++) {
            v[i] = op == UnaryOp.LOG || op == UnaryOp.SQRT ? Math.abs(v[i]) + 0.05 : 2 * v[i];
        }
        return cpu(v, t, n);
    }

    @ParameterizedTest(name = "{0} {1} n={2}")
    @MethodSource("unaryCases")
    @CoversKernels(module = MODULE, value = {"ew_unary_f32", "ew_unary_f64"})
    void unaryMatchesTheReference(UnaryOp op, DType t, int n) {
        Tensor x = input(op, t, n, 1);
        Tensor ref = Tensor.zeros(x.shape(), t, Device.CPU);
        x.backend().elementwise().unary(op, x, ref);
        Tensor gx = gpu(x);
        Tensor out = Tensor.zeros(x.shape(), t, gx.device());
        Map<String, Long> l = launchesDuring(() -> gx.backend().elementwise().unary(op, gx, out));
        assertEquals(Map.of("ew_unary_" + t.suffix(), 1L), l);
        assertClose(ref.toDoubleArray(), out.toDoubleArray(), Double.MIN_NORMAL, rtol(t), op + " " + t + " n=" + n);
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"ew_unary_f32", "ew_unary_f64"})
    void nanInfinityAndSignedZeroFollowTheReference(DType t) {
        double[] v = {Double.NaN, -0.0, 0.0, -1.0, 1.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e-30, -50};
        for (UnaryOp op : UnaryOp.values()) {
            Tensor x = cpu(v, t, v.length);
            Tensor ref = Tensor.zeros(x.shape(), t, Device.CPU);
            x.backend().elementwise().unary(op, x, ref);
            Tensor gx = gpu(x);
            Tensor out = Tensor.zeros(x.shape(), t, gx.device());
            gx.backend().elementwise().unary(op, gx, out);
            double[] e = ref.toDoubleArray();
            double[] a = out.toDoubleArray();
            assertClose(e, a, Double.MIN_NORMAL, rtol(t), op + " " + t + " on special values");
            for (int i = 0; i < e.length; i++) {
                if (e[i] == 0) {
                    // the sign of zero is part of relu's and abs's contract
                    assertEquals(Double.doubleToRawLongBits(e[i]), Double.doubleToRawLongBits(a[i]),
                            op + " of " + v[i] + ": sign of zero");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} n={2}")
    @MethodSource("unaryCases")
    @CoversKernels(module = MODULE, value = {"ew_unary_backward_f32", "ew_unary_backward_f64"})
    void unaryBackwardMatchesTheReference(UnaryOp op, DType t, int n) {
        Tensor x = input(op, t, n, 2);
        Tensor y = Tensor.zeros(x.shape(), t, Device.CPU);
        x.backend().elementwise().unary(op, x, y);
        Tensor dy = cpuRandn(3, t, n);
        Tensor ref = Tensor.zeros(x.shape(), t, Device.CPU);
        x.backend().elementwise().unaryBackward(op, x, y, dy, ref);
        Tensor gx = gpu(x);
        Tensor gy = gpu(y);
        Tensor gdy = gpu(dy);
        Tensor dx = Tensor.zeros(x.shape(), t, gx.device());
        Map<String, Long> l = launchesDuring(() -> gx.backend().elementwise().unaryBackward(op, gx, gy, gdy, dx));
        assertEquals(Map.of("ew_unary_backward_" + t.suffix(), 1L), l);
        // tanh' = 1 - y^2 and sigmoid' = y (1 - y) cancel near |y| = 1: forming them in the dtype
        // (the reference in float64, the GPU as (1 - y)(1 + y)) costs an absolute u |dy|.
        double[] g = dy.toDoubleArray();
        double[] atol = new double[n];
        for (int i = 0; i < n; i++) {
            atol[i] = 4 * eps(t) * Math.abs(g[i]) + Double.MIN_NORMAL;
        }
        assertClose(ref.toDoubleArray(), dx.toDoubleArray(), atol, rtol(t), op + "' " + t + " n=" + n);
    }

    static Stream<Arguments> binaryCases() {
        // a shape, b shape, the kernel expected
        String[][] shapes = {
            {"4099", "4099", "ew_binary"},
            {"7", "7", "ew_binary"},
            {"", "3,37", "ew_binary"},
            {"3,37", "1", "ew_binary"},
            {"1,1", "1", "ew_binary"},
            {"2,3,5,7", "1,3,1,1", "ew_binary_bcast"},
            {"5,1", "1,6", "ew_binary_bcast"},
            {"2,1,33", "4,1", "ew_binary_bcast"},
            {"1,3,1,1", "1,3,4,4", "ew_binary_bcast"},
            {"8,16,33", "16,1", "ew_binary_bcast"},
        };
        List<Arguments> a = new ArrayList<>();
        for (BinaryOp op : BinaryOp.values()) {
            for (DType t : DType.values()) {
                for (String[] s : shapes) {
                    a.add(Arguments.of(op, t, s[0], s[1], s[2]));
                }
            }
        }
        return a.stream();
    }

    static int[] dims(String s) {
        return s.isEmpty() ? new int[0] : Stream.of(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    @ParameterizedTest(name = "{0} {1} [{2}] op [{3}]")
    @MethodSource("binaryCases")
    @CoversKernels(module = MODULE, value = {"ew_binary_f32", "ew_binary_f64", "ew_binary_bcast_f32", "ew_binary_bcast_f64"})
    void binaryMatchesTheReference(BinaryOp op, DType t, String as, String bs, String kernel) {
        Tensor a = cpuRandn(4, t, dims(as));
        Tensor b = op == BinaryOp.DIV ? Ops.add(Ops.abs(cpuRandn(5, t, dims(bs))), Ops.scalarLike(a, 0.5))
                : cpuRandn(5, t, dims(bs));
        Shape os = Shape.broadcast(a.shape(), b.shape(), "test");
        Tensor ref = Tensor.zeros(os, t, Device.CPU);
        a.backend().elementwise().binary(op, a, b, ref);
        Tensor ga = gpu(a);
        Tensor gb = gpu(b);
        Tensor out = Tensor.zeros(os, t, ga.device());
        Map<String, Long> l = launchesDuring(() -> ga.backend().elementwise().binary(op, ga, gb, out));
        assertEquals(Map.of(kernel + "_" + t.suffix(), 1L), l);
        assertClose(ref.toDoubleArray(), out.toDoubleArray(), Double.MIN_NORMAL, rtol(t),
                op + " " + t + " " + a.shape() + " " + b.shape());
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"ew_pow_f32", "ew_pow_f64", "ew_pow_backward_f32", "ew_pow_backward_f64"})
    void powAndItsBackwardMatchTheReference(DType t) {
        double[] exponents = {2, 0.5, -1.5, 0, 3, 1};
        for (int n : SIZES) {
            Tensor x = Ops.add(Ops.abs(cpuRandn(6, t, n)), Ops.scalarLike(cpuRandn(6, t, 1), 0.1));
            Tensor dy = cpuRandn(7, t, n);
            Tensor gx = gpu(x);
            Tensor gdy = gpu(dy);
            for (double p : exponents) {
                Tensor ref = Tensor.zeros(x.shape(), t, Device.CPU);
                x.backend().elementwise().powScalar(x, p, ref);
                Tensor out = Tensor.zeros(x.shape(), t, gx.device());
                assertLaunched(launchesDuring(() -> gx.backend().elementwise().powScalar(gx, p, out)), "ew_pow_" + t.suffix());
                assertClose(ref.toDoubleArray(), out.toDoubleArray(), Double.MIN_NORMAL, rtol(t), "pow " + p + " " + t);

                Tensor dref = Tensor.zeros(x.shape(), t, Device.CPU);
                x.backend().elementwise().powScalarBackward(x, p, dy, dref);
                Tensor dx = Tensor.zeros(x.shape(), t, gx.device());
                assertLaunched(launchesDuring(() -> gx.backend().elementwise().powScalarBackward(gx, p, gdy, dx)),
                        "ew_pow_backward_" + t.suffix());
                assertClose(dref.toDoubleArray(), dx.toDoubleArray(), Double.MIN_NORMAL, rtol(t), "pow' " + p + " " + t);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    @CoversKernels(module = MODULE, value = {"cast_f32_to_f64", "cast_f64_to_f32"})
    void castAndCopyMatchTheReference(DType t) {
        DType other = t == DType.F32 ? DType.F64 : DType.F32;
        for (int n : SIZES) {
            Tensor x = cpuRandn(8, t, n);
            Tensor gx = gpu(x);
            Tensor cast = Ops.cast(gx, other);
            assertEquals(gx.device(), cast.device());
            assertClose(Ops.cast(x, other).toDoubleArray(), cast.toDoubleArray(), 0, 0, "cast " + t + " to " + other);
            Tensor copy = Ops.copy(gx);
            assertClose(x.toDoubleArray(), copy.toDoubleArray(), 0, 0, "copy " + t);
        }
        assertLaunched(launchesDuring(() -> Ops.cast(gpu(cpuRandn(9, t, 5)), other)), "cast_" + t.suffix() + "_to_" + other.suffix());
    }

    @ParameterizedTest
    @EnumSource(UnaryOp.class)
    @CoversKernels(module = MODULE, value = {"ew_unary_f64", "ew_unary_backward_f64"})
    void unaryGradcheckOnTheGpu(UnaryOp op) {
        Tensor x = gpu(input(op, DType.F64, 6, 10)).requiresGrad(true);
        if (op == UnaryOp.RELU || op == UnaryOp.ABS) {
            // keep finite differences away from the kink at 0
            x = gpu(cpu(new double[] {-1.5, -0.7, -0.2, 0.3, 0.9, 2.0}, DType.F64, 6)).requiresGrad(true);
        }
        Gradcheck.assertPasses(in -> apply(op, in[0]), x);
    }

    static Tensor apply(UnaryOp op, Tensor x) {
        return switch (op) {
            case NEG -> Ops.neg(x);
            case EXP -> Ops.exp(x);
            case LOG -> Ops.log(x);
            case SQRT -> Ops.sqrt(x);
            case RELU -> Ops.relu(x);
            case SIGMOID -> Ops.sigmoid(x);
            case TANH -> Ops.tanh(x);
            case ABS -> Ops.abs(x);
        };
    }

    @ParameterizedTest
    @EnumSource(BinaryOp.class)
    @CoversKernels(module = MODULE, value = {"ew_binary_bcast_f64"})
    void binaryGradcheckWithBroadcastingOnTheGpu(BinaryOp op) {
        Tensor a = gpu(cpuRandn(11, DType.F64, 2, 1, 3)).requiresGrad(true);
        Tensor b = gpu(Ops.add(Ops.abs(cpuRandn(12, DType.F64, 2, 1)), Ops.scalarLike(cpuRandn(1, DType.F64, 1), 0.5)))
                .requiresGrad(true);
        Gradcheck.assertPasses(in -> switch (op) {
            case ADD -> Ops.add(in[0], in[1]);
            case SUB -> Ops.sub(in[0], in[1]);
            case MUL -> Ops.mul(in[0], in[1]);
            case DIV -> Ops.div(in[0], in[1]);
        }, a, b);
    }

    @org.junit.jupiter.api.Test
    @CoversKernels(module = MODULE, value = {"ew_pow_f64", "ew_pow_backward_f64"})
    void powGradcheckOnTheGpu() {
        Tensor x = gpu(Ops.add(Ops.abs(cpuRandn(13, DType.F64, 5)), Ops.scalarLike(cpuRandn(1, DType.F64, 1), 0.2)))
                .requiresGrad(true);
        Gradcheck.assertPasses(in -> Ops.pow(in[0], -1.5), x);
        Gradcheck.assertPasses(in -> Ops.pow(in[0], 3), x);
    }

    @org.junit.jupiter.api.Test
    @CoversKernels(module = MODULE, value = {"ew_binary_f32"})
    void sameShapeBinaryMovesTheMinimumBytesWithFullVectors() {
        int n = 4099;
        Tensor a = gpu(cpuRandn(14, DType.F32, n));
        Tensor b = gpu(cpuRandn(15, DType.F32, n));
        Tensor out = Tensor.zeros(a.shape(), DType.F32, a.device());
        a.backend().elementwise().binary(BinaryOp.ADD, a, b, out);
        backend().driver().lastLaunchCounters().ifPresent(c -> {
            // Minimum: read a and b once, write out once.
            assertEquals(2L * n * 4, c.globalLoadBytes(), "bytes read");
            assertEquals((long) n * 4, c.globalStoreBytes(), "bytes written");
            // A warp's float4 request covers 512 contiguous bytes = 16 sectors; only the tail
            // requests (3 elements, 1 sector each) fall below.
            assertEquals(16.0, sectorsPerFullRequest(c, n), 0.5, "sectors per 16-byte request");
        });
    }

    /** Sectors per load request, leaving out the scalar tail's requests. */
    private static double sectorsPerFullRequest(KernelCounters c, int n) {
        int tail = n % 4;
        long tailRequests = tail > 0 ? 2 : 0;
        long tailSectors = tail > 0 ? 2 : 0;
        return (double) (c.globalLoadSectors() - tailSectors) / (c.globalLoadRequests() - tailRequests);
    }
}
