package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.CudaTestSupport.backend;
import static io.jnorm.backend.cuda.CudaTestSupport.cpuRandn;
import static io.jnorm.backend.cuda.CudaTestSupport.gpu;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.jnorm.backend.BinaryOp;
import io.jnorm.backend.UnaryOp;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.ops.Ops;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Scope;
import io.jnorm.tensor.Shape;
import io.jnorm.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Kernel quality measured on the emulator: global bytes each kernel requests against the minimum
 * its op needs (inputs read once, outputs written once), and 32-byte sectors per warp request
 * against the ideal of the access width (4 for coalesced float, 8 for double, 16 for 16-byte
 * vectors). The main loops must be within 10% of ideal; a regression fails here. The table is
 * printed for the kernel report.
 *
 * <p>Shapes are multiples of the vector width times the block so no scalar tail dilutes the
 * averages. "Requested" bytes count every lane's access: a broadcast operand re-read by many
 * threads counts each time (on a GPU those re-reads hit L1/L2, not DRAM).
 */
class CudaKernelBudgetsTest {
    private record Row(String kernel, String shape, long loadBytes, long storeBytes, long minLoad, long minStore,
                       double loadSectors, double storeSectors, double idealLoad, double idealStore) {
    }

    private static final List<Row> ROWS = new ArrayList<>();

    @AfterAll
    static void print() {
        if (ROWS.isEmpty()) {
            return;
        }
        System.out.printf("%n%-22s %-26s %10s %10s %10s %8s %12s %12s%n", "kernel", "case", "load B", "store B", "min B",
                "ratio", "ld sect/req", "st sect/req");
        for (Row r : ROWS) {
            System.out.printf("%-22s %-26s %10d %10d %10d %8.3f %6.2f/%-5.0f %6.2f/%-5.0f%n", r.kernel, r.shape,
                    r.loadBytes, r.storeBytes, r.minLoad + r.minStore,
                    (double) (r.loadBytes + r.storeBytes) / (r.minLoad + r.minStore), r.loadSectors, r.idealLoad,
                    r.storeSectors, r.idealStore);
        }
    }

    /** Runs one launch and records its counters; skipped on a real GPU (no counters there). */
    private static KernelCounters measure(String shape, long minLoad, long minStore, double idealLoad,
                                          double idealStore, Runnable launch) {
        launch.run();
        KernelCounters c = backend().driver().lastLaunchCounters().orElse(null);
        assumeTrue(c != null, "the driver reports no counters (a real GPU): use Nsight Compute there");
        ROWS.add(new Row(c.kernel(), shape, c.globalLoadBytes(), c.globalStoreBytes(), minLoad, minStore,
                c.loadSectorsPerRequest(), c.storeSectorsPerRequest(), idealLoad, idealStore));
        return c;
    }

    private static void within10(double ideal, double actual, String what) {
        assertTrue(Math.abs(actual - ideal) <= 0.1 * ideal, what + ": " + actual + " sectors per request, ideal " + ideal);
    }

    private static void exactBytes(KernelCounters c, long load, long store) {
        assertEquals(load, c.globalLoadBytes(), c.kernel() + " bytes read");
        assertEquals(store, c.globalStoreBytes(), c.kernel() + " bytes written");
    }

    private static void run(Supplier<Tensor[]> inputs, java.util.function.Consumer<Tensor[]> body) {
        try (Scope s = Scope.open()) {
            body.accept(inputs.get());
        }
    }

    @Test
    void contiguousElementwiseKernelsMoveTheMinimumInFullVectors() {
        int n = 8192;
        for (DType t : DType.values()) {
            long b = (long) n * t.bytes();
            run(() -> new Tensor[] {gpu(cpuRandn(1, t, n)), gpu(cpuRandn(2, t, n))}, in -> {
                Tensor out = Tensor.zeros(Shape.of(n), t, in[0].device());
                KernelCounters u = measure("exp [8192]", b, b, 16, 16,
                        () -> in[0].backend().elementwise().unary(UnaryOp.EXP, in[0], out));
                exactBytes(u, b, b);
                within10(16, u.loadSectorsPerRequest(), u.kernel());
                within10(16, u.storeSectorsPerRequest(), u.kernel());
                KernelCounters bw = measure("tanh' [8192]", 2 * b, b, 16, 16,
                        () -> in[0].backend().elementwise().unaryBackward(UnaryOp.TANH, in[0], in[1], in[1], out));
                exactBytes(bw, 2 * b, b);
                KernelCounters bin = measure("mul [8192]x[8192]", 2 * b, b, 16, 16,
                        () -> in[0].backend().elementwise().binary(BinaryOp.MUL, in[0], in[1], out));
                exactBytes(bin, 2 * b, b);
                within10(16, bin.loadSectorsPerRequest(), bin.kernel());
                Tensor s = Ops.scalarLike(in[1], 2.0);
                KernelCounters sc = measure("add [8192]+scalar", b + t.bytes(), b, 16, 16,
                        () -> in[0].backend().elementwise().binary(BinaryOp.ADD, in[0], s, out));
                // The scalar is read once per thread: a few hundred bytes over the minimum.
                assertTrue(sc.globalLoadBytes() <= b + (long) 8 * 256 * t.bytes(), sc.toString());
                KernelCounters p = measure("pow [8192]", b, b, 16, 16,
                        () -> in[0].backend().elementwise().powScalar(in[0], 2.0, out));
                exactBytes(p, b, b);
            });
        }
    }

    @Test
    void broadcastAndStridedKernelsWriteOnceAndStayCoalesced() {
        DType t = DType.F32;
        run(() -> new Tensor[] {gpu(cpuRandn(3, t, 64, 128)), gpu(cpuRandn(4, t, 1, 128))}, in -> {
            long n = 64 * 128;
            Tensor out = Tensor.zeros(Shape.of(64, 128), t, in[0].device());
            KernelCounters c = measure("add [64,128]+[1,128]", (n + 128) * 4, n * 4, 4, 4,
                    () -> in[0].backend().elementwise().binary(BinaryOp.ADD, in[0], in[1], out));
            assertEquals(n * 4, c.globalStoreBytes());
            within10(4, c.loadSectorsPerRequest(), c.kernel());
            KernelCounters e = measure("expand [1,128]->[64,128]", 128 * 4, n * 4, 4, 4,
                    () -> in[1].backend().shapes().expand(in[1], out));
            assertEquals(n * 4, e.globalStoreBytes());
            within10(4, e.loadSectorsPerRequest(), e.kernel());
            Tensor tr = Tensor.zeros(Shape.of(128, 64), t, in[0].device());
            KernelCounters x = measure("permute [64,128] (1,0)", n * 4, n * 4, 4, 4,
                    () -> in[0].backend().shapes().permute(in[0], new int[] {1, 0}, tr));
            exactBytes(x, n * 4, n * 4);
            within10(4, x.loadSectorsPerRequest(), x.kernel());
            within10(4, x.storeSectorsPerRequest(), x.kernel());
            Tensor d = Tensor.zeros(Shape.of(64, 128), DType.F64, in[0].device());
            KernelCounters cast = measure("cast f32->f64 [64,128]", n * 4, n * 8, 4, 8,
                    () -> in[0].backend().copy(in[0], d));
            exactBytes(cast, n * 4, n * 8);
            within10(4, cast.loadSectorsPerRequest(), cast.kernel());
            within10(8, cast.storeSectorsPerRequest(), cast.kernel());
        });
    }

    @Test
    void reductionsReadTheirInputOnceCoalesced() {
        for (DType t : DType.values()) {
            int w = t.bytes();
            double scalarIdeal = 32.0 * w / 32;
            // shape, reduced axes, ideal load sectors per request
            Object[][] cases = {
                {new int[] {64, 256}, new int[] {1}, 16.0, "rows"},
                {new int[] {256, 32}, new int[] {1}, scalarIdeal, "rows (warp)"},
                {new int[] {256, 64}, new int[] {0}, scalarIdeal, "cols"},
                {new int[] {8, 16, 64}, new int[] {0, 2}, scalarIdeal, "general"},
            };
            for (Object[] cs : cases) {
                int[] dims = (int[]) cs[0];
                boolean[] reduce = new boolean[dims.length];
                for (int a : (int[]) cs[1]) {
                    reduce[a] = true;
                }
                run(() -> new Tensor[] {gpu(cpuRandn(5, t, dims))}, in -> {
                    int[] kd = dims.clone();
                    for (int a = 0; a < kd.length; a++) {
                        kd[a] = reduce[a] ? 1 : kd[a];
                    }
                    Tensor out = Tensor.zeros(Shape.of(kd), t, in[0].device());
                    long inB = in[0].numel() * w;
                    long outB = out.numel() * w;
                    KernelCounters c = measure("sum " + cs[3] + " " + java.util.Arrays.toString(dims), inB, outB, (double) cs[2],
                            scalarIdeal, () -> in[0].backend().reductions().sum(in[0], reduce, out));
                    exactBytes(c, inB, outB);
                    within10((double) cs[2], c.loadSectorsPerRequest(), c.kernel() + " " + cs[3]);
                    assertEquals(0, c.atomics(), "no atomics");
                    KernelCounters v = measure("var " + cs[3] + " " + java.util.Arrays.toString(dims), inB, outB,
                            scalarIdeal, scalarIdeal, () -> in[0].backend().reductions().var(in[0], reduce, 1, out));
                    exactBytes(v, inB, outB);
                    within10(scalarIdeal, v.loadSectorsPerRequest(), v.kernel() + " var " + cs[3]);
                });
            }
        }
    }
}
