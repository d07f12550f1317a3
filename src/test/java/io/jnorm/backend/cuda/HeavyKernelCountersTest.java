package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnorm.backend.Conv2dSpec;
import io.jnorm.backend.Pool2dSpec;
import io.jnorm.backend.cuda.CudaLinalgLaunchers.Gemm;
import io.jnorm.backend.cuda.CudaWeightStandardizationLaunchers.Variant;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuDrivers;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.tensor.DType;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kernel quality measured on the emulator: for one representative float32 shape per op, the
 * global bytes its launches move against the op's minimum (inputs read once, outputs written
 * once), the sector efficiency of loads and stores (requested bytes / (32-byte sectors * 32);
 * 1.0 is perfectly coalesced) and the launch count. Budgets fail the test on regression; the
 * table is printed for the kernel report.
 */
class HeavyKernelCountersTest {

    private static final DType T = DType.F32;
    private static final int B = 4;

    private static KernelBench bench;
    private static final List<String> REPORT = new ArrayList<>();

    /** Sums of one op's launches. */
    record OpCounters(int launches, long bytes, double loadEfficiency, double storeEfficiency,
                      double loadSectorsPerRequest) {
        static OpCounters of(List<RecordingDriver.Launch> launches) {
            long bytes = 0;
            long loadBytes = 0;
            long loadSectors = 0;
            long storeBytes = 0;
            long storeSectors = 0;
            long loadRequests = 0;
            for (RecordingDriver.Launch l : launches) {
                KernelCounters c = KernelBench.counters(l);
                bytes += c.globalBytes();
                loadBytes += c.globalLoadBytes();
                loadSectors += c.globalLoadSectors();
                loadRequests += c.globalLoadRequests();
                storeBytes += c.globalStoreBytes();
                storeSectors += c.globalStoreSectors();
            }
            return new OpCounters(launches.size(), bytes, loadBytes / (32.0 * Math.max(1, loadSectors)),
                    storeBytes / (32.0 * Math.max(1, storeSectors)), (double) loadSectors / Math.max(1, loadRequests));
        }
    }

    @BeforeAll
    static void open() {
        Assumptions.assumeTrue(GpuDrivers.selected() == GpuDrivers.Kind.EMULATOR, "counters exist on the emulator only");
        bench = new KernelBench();
    }

    @AfterAll
    static void close() {
        if (bench != null) {
            bench.close();
        }
        REPORT.forEach(System.out::println);
    }

    private static OpCounters measure(String op, long minimumBytes, long budgetBytes, double minLoadEff,
                                      double minStoreEff, int maxLaunches) {
        List<RecordingDriver.Launch> launches = bench.driver.drain();
        OpCounters c = OpCounters.of(launches);
        REPORT.add(String.format("%-26s launches %d  bytes %9d  minimum %9d  (%.2fx)  load eff %.2f  store eff %.2f"
                        + "  load sectors/request %.1f", op, c.launches(), c.bytes(), minimumBytes,
                (double) c.bytes() / minimumBytes, c.loadEfficiency(), c.storeEfficiency(), c.loadSectorsPerRequest()));
        assertTrue(c.launches() <= maxLaunches, op + ": " + c.launches() + " launches, budget " + maxLaunches);
        assertTrue(c.bytes() <= budgetBytes, op + ": " + c.bytes() + " bytes moved, budget " + budgetBytes
                + " (minimum " + minimumBytes + ")");
        assertTrue(c.loadEfficiency() >= minLoadEff, op + ": load sector efficiency " + c.loadEfficiency()
                + " below " + minLoadEff);
        assertTrue(c.storeEfficiency() >= minStoreEff, op + ": store sector efficiency " + c.storeEfficiency()
                + " below " + minStoreEff);
        bench.freeAll();
        return c;
    }

    private static DevicePointer in(long n, long seed) {
        return bench.upload(T, uniform((int) n, seed));
    }

    /**
     * Tile-reuse model of an implicit GEMM: each 64-wide block column re-reads the whole A
     * operand slice, each block row the whole B slice; every staged element is loaded once per
     * block that needs it, so bytes <= |A| * tilesN + |B| * tilesM + |C|.
     */
    private static long gemmModel(long aElems, long bElems, long cElems, long tilesM, long tilesN) {
        return B * (aElems * tilesN + bElems * tilesM + cElems);
    }

    @Test
    @CoversKernels(module = "conv2d", value = {"conv2d_fwd_f32", "conv2d_bwd_input_f32", "conv2d_bwd_weight_f32",
            "conv2d_wgrad_reduce_f32", "conv2d_bias_grad_f32"})
    void convolution() {
        CudaConvGeometry g = new CudaConvGeometry(2, 8, 16, 16, 16, 3, 3, new Conv2dSpec(1, 1, 1, 1, 1, 1, 1));
        CudaConvLaunchers conv = new CudaConvLaunchers(bench.modules, bench.allocator);
        long x = 2L * 8 * 16 * 16;
        long w = 16L * 72;
        long y = 2L * 16 * 16 * 16;
        long cols = g.outputPixels();
        conv.forward(T, in(x, 1), in(w, 2), in(16, 3), bench.alloc(T, y), g);
        // im2col B has K x cols = 72 x 512 gathered elements, one block row: read once; the
        // epilogue reads bias[o] per output (one sector per request: broadcast).
        measure("conv2d forward", B * (x + w + 16 + y), gemmModel(w, 72 * cols, y, 1, 8) + B * y, 0.8, 0.95, 1);

        conv.backwardInput(T, in(y, 4), in(w, 5), bench.alloc(T, x), g);
        measure("conv2d backward input", B * (y + w + x), gemmModel(w, 16 * 9 * x, x, 1, 8), 0.7, 0.95, 1);

        conv.backwardWeight(T, in(y, 6), in(x, 7), bench.alloc(T, w), g, 1);
        measure("conv2d backward weight", B * (y + x + w), gemmModel(y, 72 * cols, w, 1, 2), 0.7, 0.5, 1);

        conv.backwardWeight(T, in(y, 8), in(x, 9), bench.alloc(T, w), g, 2);
        measure("conv2d bwd weight split 2", B * (y + x + w), gemmModel(y, 72 * cols, w, 1, 2) + 3 * B * w, 0.7, 0.5, 2);

        conv.biasGrad(T, in(y, 10), bench.alloc(T, 16), g);
        measure("conv2d bias grad", B * (y + 16), B * (y + 16), 0.95, 0.0, 1);
    }

    @Test
    @CoversKernels(module = "ws_conv", value = {"ws_stats_f32", "ws_conv2d_fwd_f32", "ws_conv2d_bwd_input_f32",
            "ws_bwd_weight_f32"})
    void weightStandardizedConvolution() {
        CudaConvGeometry g = new CudaConvGeometry(2, 8, 16, 16, 16, 3, 3, new Conv2dSpec(1, 1, 1, 1, 1, 1, 1));
        CudaConvLaunchers conv = new CudaConvLaunchers(bench.modules, bench.allocator);
        CudaWeightStandardizationLaunchers ws = new CudaWeightStandardizationLaunchers(bench.modules, bench.allocator, conv);
        Variant v = new Variant(0, 1e-5, true);
        long x = 2L * 8 * 16 * 16;
        long w = 16L * 72;
        long y = 2L * 16 * 16 * 16;
        long cols = g.outputPixels();
        ws.convForward(T, in(x, 1), in(w, 2), in(16, 3), bench.alloc(T, y), g, v);
        // The stats pass reads W twice and writes 2 O values; the conv reads 2 stats per slot.
        long statsBytes = B * (2 * w + 2 * 16) + B * 2 * 2 * 256 * 8;
        measure("ws conv2d forward", B * (x + w + 16 + y), gemmModel(w, 72 * cols, y, 1, 8) + B * y + statsBytes,
                0.8, 0.95, 2);

        ws.convBackwardInput(T, in(y, 4), in(w, 5), bench.alloc(T, x), g, v);
        measure("ws conv2d backward input", B * (y + w + x), gemmModel(w, 16 * 9 * x, x, 1, 8) + statsBytes
                + B * 2 * 16 * 8, 0.7, 0.9, 2);

        ws.convBackwardWeight(T, in(y, 6), in(x, 7), in(w, 8), bench.alloc(T, w), g, v, 1);
        // Closed form: W read 4 times (mean, var, two passes), G read and dW written twice.
        measure("ws conv2d backward weight", B * (y + x + 2 * w), gemmModel(y, 72 * cols, w, 1, 2) + 8 * B * w, 0.7, 0.5, 2);
    }

    @Test
    @CoversKernels(module = "gemm", value = "gemm_f32")
    void gemm() {
        int m = 128;
        int n = 128;
        int k = 64;
        CudaLinalgLaunchers linalg = new CudaLinalgLaunchers(bench.modules);
        linalg.gemm(T, in((long) m * k, 1), in((long) k * n, 2), bench.alloc(T, (long) m * n), Gemm.of(m, n, k, false, false));
        OpCounters vec = measure("gemm 128x128x64", B * ((long) m * k + (long) k * n + (long) m * n),
                gemmModel((long) m * k, (long) k * n, (long) m * n, 2, 2), 0.95, 0.95, 1);
        // 16-byte loads: 32 lanes x 16 B = 16 full sectors per request (a scalar f32 request is 4).
        assertEquals(16.0, vec.loadSectorsPerRequest(), 0.01, "gemm stages both operands with 16-byte vector loads");
        linalg.gemm(T, in((long) m * k, 3), in((long) k * n, 4), bench.alloc(T, (long) m * n), Gemm.of(m, n, k, true, true));
        measure("gemm 128x128x64 (A^T, B^T)", B * ((long) m * k + (long) k * n + (long) m * n),
                gemmModel((long) m * k, (long) k * n, (long) m * n, 2, 2), 0.95, 0.95, 1);
        linalg.gemm(T, in((long) m * 63, 5), in(63L * n, 6), bench.alloc(T, (long) m * n), Gemm.of(m, n, 63, false, false));
        // K = 63: A rows are not 16-byte aligned, so A falls back to scalar loads of 8 consecutive
        // k per row, which straddle a sector boundary on most rows (efficiency about 0.7).
        OpCounters mixed = measure("gemm 128x128x63 (A scalar)", B * ((long) m * 63 + 63L * n + (long) m * n),
                gemmModel((long) m * 63, 63L * n, (long) m * n, 2, 2), 0.65, 0.95, 1);
        assertTrue(mixed.loadSectorsPerRequest() < 10, "A staged by scalar loads: " + mixed.loadSectorsPerRequest());
    }

    @Test
    @CoversKernels(module = "pool", value = {"max_pool2d_fwd_f32", "max_pool2d_bwd_f32", "avg_pool2d_fwd_f32",
            "avg_pool2d_bwd_f32"})
    void pooling() {
        CudaPoolLaunchers pool = new CudaPoolLaunchers(bench.modules);
        Pool2dSpec s = new Pool2dSpec(2, 2, 2, 2, 0, 0);
        int planes = 16;
        long x = planes * 32L * 32;
        long y = planes * 16L * 16;
        // Two-wide stride-2 windows read each window row as one float2: full sectors per request.
        pool.maxForward(T, in(x, 1), bench.alloc(T, y), planes, 32, 32, s);
        measure("max pool 2x2/2 forward", B * (x + y), B * (x + y), 0.95, 0.95, 1);
        pool.maxBackward(T, in(x, 2), in(y, 3), bench.alloc(T, x), planes, 32, 32, s);
        // The gather recomputes each covering window's argmax: KH*KW reads of x per window
        // (from L1 on a GPU), instead of storing an index tensor in the forward.
        measure("max pool 2x2/2 backward", B * (x + y + x), B * (4 * x + y + x), 0.45, 0.95, 1);
        pool.avgForward(T, in(x, 4), bench.alloc(T, y), planes, 32, 32, s);
        measure("avg pool 2x2/2 forward", B * (x + y), B * (x + y), 0.95, 0.95, 1);
        pool.avgBackward(T, in(y, 5), bench.alloc(T, x), planes, 32, 32, s);
        // A thread per column pair reads the dy of its window and stores the pair: dx moves once,
        // dy once per window row (the two input rows of a window each read it).
        measure("avg pool 2x2/2 backward", B * (y + x), B * (2 * y + x), 0.95, 0.95, 1);
    }

    @Test
    @CoversKernels(module = "softmax", value = {"log_softmax_rows_f32", "log_softmax_cols_f32", "log_softmax_bwd_rows_f32",
            "cross_entropy_lse_f32", "cross_entropy_nll_f32", "cross_entropy_bwd_f32"})
    void softmaxFamily() {
        CudaLossLaunchers loss = new CudaLossLaunchers(bench.modules);
        int rows = 64;
        int k = 128;
        long size = (long) rows * k;
        loss.logSoftmax(T, in(size, 1), bench.alloc(T, size), rows, k, 1);
        // Rows of 128 floats are cached in registers: x is read once, y written once.
        measure("log_softmax rows 64x128", 2 * B * size, 2 * B * size, 0.95, 0.95, 1);
        loss.logSoftmax(T, in(size, 2), bench.alloc(T, size), 2, k, 32);
        measure("log_softmax cols 2x128x32", 2 * B * (2L * k * 32), 3 * B * (2L * k * 32), 0.95, 0.95, 1);
        loss.logSoftmaxBackward(T, in(size, 3), in(size, 4), bench.alloc(T, size), rows, k, 1);
        measure("log_softmax backward rows", 3 * B * size, 3 * B * size, 0.95, 0.95, 1);
        DevicePointer targets = bench.upload(T, new double[rows]);
        DevicePointer lse = bench.alloc(T, rows);
        DevicePointer logits = in(size, 5);
        bench.driver.drain();
        loss.crossEntropy(T, logits, targets, lse, bench.alloc(T, 1), rows, k);
        // The logits are read once; only the per-row logsumexp is written (one 32-byte sector per
        // block of 8 rows) and read back with the targets, and the nll kernel gathers one logit
        // per row (a sector for 4 bytes, 64 sectors beside the 1024 of the logits): load
        // efficiency ~0.93; the stores are the 64 lse values and the 0-d loss, one sector each
        // block, so their efficiency is low by construction and not bounded here.
        measure("cross entropy forward", B * (size + 2 * rows + 1), B * (size + 2 * rows + 8 * rows + rows + 8 + 8),
                0.92, 0.0, 2);
        // measure() freed the forward's buffers: the backward gets fresh ones (lse as the forward wrote it).
        logits = in(size, 5);
        targets = bench.upload(T, new double[rows]);
        lse = bench.alloc(T, rows);
        loss.crossEntropy(T, logits, targets, lse, bench.alloc(T, 1), rows, k);
        DevicePointer dLoss = bench.upload(T, new double[] {1.0});
        bench.driver.drain();
        loss.crossEntropyBackward(T, logits, targets, lse, dLoss, bench.alloc(T, size), rows, k);
        // Softmax recomputed from the logits: x read once, dlogits written once; lse, targets and
        // dloss cost one sector each per block of 8 rows.
        measure("cross entropy backward", B * (2 * size + 2 * rows + 1), B * (2 * size + 3 * 8 * (rows / 8)),
                0.9, 0.95, 1);
        assertEquals(0, bench.driver.bytesInUse());
    }
}
