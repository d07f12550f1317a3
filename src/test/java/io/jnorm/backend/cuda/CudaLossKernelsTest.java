package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.assertClose;
import static io.jnorm.backend.cuda.KernelBench.cpu;
import static io.jnorm.backend.cuda.KernelBench.cpuZeros;
import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;

/**
 * softmax.ptx on the emulated GPU against the CPU reference: log-softmax over the last axis
 * (warp per row) and over a middle axis (thread per column), rows longer and shorter than a
 * warp, non-finite rows (NaN, -inf, +inf) and cross-entropy forward and backward.
 */
class CudaLossKernelsTest {

    private static KernelBench bench;
    private static CudaLossLaunchers loss;

    @BeforeAll
    static void open() {
        bench = new KernelBench();
        loss = new CudaLossLaunchers(bench.modules);
    }

    @AfterAll
    static void close() {
        bench.close();
    }

    @AfterEach
    void free() {
        bench.freeAll();
    }

    @ParameterizedTest(name = "{0} [{1},{2},{3}]")
    // Rows a multiple of the 16-byte width and at most 8 vectors per lane (1024 floats, 512 doubles)
    // take the register-cached path, others the scalar one: 12 floats (3 vectors, most lanes idle),
    // 1024 floats and 512 doubles (every slot full), 1028 floats and 514 doubles (just past it).
    @CsvSource({"F32, 13, 10, 1", "F64, 13, 10, 1", "F32, 3, 77, 1", "F64, 1, 5, 1", "F32, 2, 6, 35", "F64, 3, 4, 5",
            "F32, 5, 12, 1", "F32, 3, 1024, 1", "F64, 3, 512, 1", "F32, 3, 1028, 1", "F64, 3, 514, 1"})
    @CoversKernels(module = "softmax", value = {"log_softmax_rows_f32", "log_softmax_rows_f64", "log_softmax_cols_f32",
            "log_softmax_cols_f64", "log_softmax_bwd_rows_f32", "log_softmax_bwd_rows_f64", "log_softmax_bwd_cols_f32",
            "log_softmax_bwd_cols_f64"})
    void logSoftmaxForwardAndBackward(DType t, int outer, int k, int inner) {
        int size = outer * k * inner;
        double[] x = uniform(size, 31);
        for (int i = 0; i < size; i++) {
            x[i] *= 8;
        }
        if (outer >= 3) {
            // Non-finite rows of the last axis: one with a NaN, one with -inf entries and one with +inf.
            int stride = inner;
            x[0] = Double.NaN;
            x[k * inner + stride] = Double.NEGATIVE_INFINITY;
            x[k * inner + 2 * stride] = Double.NEGATIVE_INFINITY;
            x[2 * k * inner] = Double.POSITIVE_INFINITY;
        }
        double[] dy = uniform(size, 32);
        DevicePointer y = bench.output(t, size);
        DevicePointer dx = bench.output(t, size);
        loss.logSoftmax(t, bench.upload(t, x), y, outer, k, inner);
        double[] got = bench.download(t, y, size);
        // The backward is checked on the reference's own (finite) forward of clean inputs.
        double[] clean = uniform(size, 33);
        double[] cleanY;
        try (Tensor tx = cpu(x, outer, k, inner); Tensor ty = cpuZeros(outer, k, inner);
             Tensor cx = cpu(clean, outer, k, inner); Tensor cy = cpuZeros(outer, k, inner);
             Tensor tdy = cpu(dy, outer, k, inner); Tensor tdx = cpuZeros(outer, k, inner)) {
            tx.backend().loss().logSoftmax(tx, 1, ty);
            double[] ref = ty.toDoubleArray();
            double[] bound = new double[size];
            Arrays.setAll(bound, i -> 4 * (Math.abs(x[i]) + Math.abs(ref[i]) + 1));
            assertClose("log_softmax", t, ref, got, bound, 8);

            tx.backend().loss().logSoftmax(cx, 1, cy);
            cleanY = cy.toDoubleArray();
            tx.backend().loss().logSoftmaxBackward(cy, tdy, 1, tdx);
            loss.logSoftmaxBackward(t, bench.upload(t, cleanY), bench.upload(t, dy), dx, outer, k, inner);
            double[] refDx = tdx.toDoubleArray();
            double[] bDx = new double[size];
            Arrays.setAll(bDx, i -> Math.abs(dy[i]) + k * Math.exp(cleanY[i]));
            assertClose("log_softmax backward", t, refDx, bench.download(t, dx, size), bDx, k + 8);
        }
        String kind = inner == 1 ? "rows" : "cols";
        assertEquals(List.of("log_softmax_" + kind + "_" + t.suffix(), "log_softmax_bwd_" + kind + "_" + t.suffix()),
                bench.driver.drainNames());
    }

    @ParameterizedTest(name = "{0} N={1} K={2}")
    @CsvSource({"F32, 7, 10", "F64, 7, 10", "F32, 1, 3", "F64, 300, 5"})
    @CoversKernels(module = "softmax", value = {"cross_entropy_lse_f32", "cross_entropy_lse_f64", "cross_entropy_nll_f32",
            "cross_entropy_nll_f64", "cross_entropy_bwd_f32", "cross_entropy_bwd_f64"})
    void crossEntropyForwardAndBackward(DType t, int n, int k) {
        double[] logits = uniform(n * k, 34);
        double[] targets = new double[n];
        for (int i = 0; i < n; i++) {
            targets[i] = (i * 7 + 3) % k;
        }
        DevicePointer lse = bench.output(t, n);
        DevicePointer l = bench.output(t, 1);
        DevicePointer dTargets = bench.upload(t, targets);
        DevicePointer dx = bench.upload(t, logits);
        loss.crossEntropy(t, dx, dTargets, lse, l, n, k);
        DevicePointer dLogits = bench.output(t, n * k);
        loss.crossEntropyBackward(t, dx, dTargets, lse, bench.upload(t, new double[] {1.5}), dLogits, n, k);
        assertEquals(List.of("cross_entropy_lse_" + t.suffix(), "cross_entropy_nll_" + t.suffix(),
                "cross_entropy_bwd_" + t.suffix()), bench.driver.drainNames());

        try (Tensor tl = cpu(logits, n, k); Tensor tt = cpu(targets, n); Tensor tlse = cpuZeros(n);
             Tensor tloss = cpuZeros(); Tensor dl = cpu(new double[] {1.5}); Tensor tdl = cpuZeros(n, k)) {
            tl.backend().loss().crossEntropy(tl, tt, tlse, tloss);
            tl.backend().loss().crossEntropyBackward(tl, tt, tlse, dl, tdl);
            double[] refLse = tlse.toDoubleArray();
            double[] lseBound = new double[n];
            Arrays.setAll(lseBound, i -> Math.abs(refLse[i]) + 2);
            assertClose("cross entropy logsumexp", t, refLse, bench.download(t, lse, n), lseBound, 8);
            assertClose("cross entropy loss", t, tloss.toDoubleArray(), bench.download(t, l, 1),
                    new double[] {Math.abs(tloss.item()) + 2}, n + 8);
            double[] gBound = new double[n * k];
            Arrays.fill(gBound, 1.5 * 2.0 / n);
            assertClose("cross entropy gradient", t, tdl.toDoubleArray(), bench.download(t, dLogits, n * k), gBound, 16);
        }
    }
}
