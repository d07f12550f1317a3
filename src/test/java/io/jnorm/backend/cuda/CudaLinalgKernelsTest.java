package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelBench.abs;
import static io.jnorm.backend.cuda.KernelBench.assertClose;
import static io.jnorm.backend.cuda.KernelBench.cpu;
import static io.jnorm.backend.cuda.KernelBench.cpuZeros;
import static io.jnorm.backend.cuda.KernelBench.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnorm.backend.cuda.CudaLinalgLaunchers.Gemm;
import io.jnorm.gpu.CoversKernels;
import io.jnorm.gpu.DevicePointer;
import io.jnorm.tensor.DType;
import io.jnorm.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * gemm.ptx on the emulated GPU against the CPU reference matmul: tails in M, N and K, an exact
 * single tile, K = 1, all four transpose combinations, multi-block grids, a two-level broadcast
 * batch (A repeated along the inner batch axis, B along the outer one), and both staging paths
 * (16-byte vectors where the contiguous axis is a multiple of 4, scalar elsewhere).
 */
class CudaLinalgKernelsTest {

    private static KernelBench bench;
    private static CudaLinalgLaunchers linalg;

    @BeforeAll
    static void open() {
        bench = new KernelBench();
        linalg = new CudaLinalgLaunchers(bench.modules);
    }

    @AfterAll
    static void close() {
        bench.close();
    }

    @AfterEach
    void free() {
        bench.freeAll();
    }

    @ParameterizedTest(name = "{0} {1}x{2}x{3} tA={4} tB={5} batch={6}x{7}")
    @CsvSource({
            "F32, 37, 29, 45, false, false, 1, 1", "F64, 37, 29, 45, false, false, 1, 1",
            "F32, 64, 64, 8, true, false, 1, 1", "F64, 64, 64, 8, false, true, 1, 1",
            "F32, 70, 130, 17, false, true, 1, 1", "F64, 70, 130, 17, true, false, 1, 1",
            "F32, 5, 3, 1, true, true, 1, 1", "F64, 9, 11, 20, true, true, 1, 1",
            "F32, 13, 7, 10, false, false, 2, 3", "F64, 13, 7, 10, true, true, 2, 3",
            // 16-byte vector staging: A rows of 44 (and a K tail inside a vector run for 12),
            // B rows of 36, B^T rows of 20; partial runs at the tails fall back per element.
            "F32, 37, 29, 44, false, false, 1, 1", "F64, 70, 36, 12, false, false, 1, 1",
            "F32, 33, 66, 20, true, true, 1, 1", "F64, 8, 12, 16, false, false, 3, 1"})
    @CoversKernels(module = "gemm", value = {"gemm_f32", "gemm_f64"})
    void gemmMatchesTheReference(DType t, int m, int n, int k, boolean transA, boolean transB, int b1, int b2) {
        // A is [b1, 1, m, k] (broadcast along the inner batch), B is [1, b2, k, n] (along the outer).
        double[] a = uniform(b1 * m * k, 41);
        double[] b = uniform(b2 * k * n, 42);
        int cSize = b1 * b2 * m * n;
        DevicePointer c = bench.output(t, cSize);
        Gemm g = new Gemm(m, n, k, transA, transB, b1, b2, (long) m * k, 0, 0, (long) k * n);
        linalg.gemm(t, bench.upload(t, a), bench.upload(t, b), c, g);
        assertEquals(List.of("gemm_" + t.suffix()), bench.driver.drainNames());

        int[] aDims = transA ? new int[] {b1, 1, k, m} : new int[] {b1, 1, m, k};
        int[] bDims = transB ? new int[] {1, b2, n, k} : new int[] {1, b2, k, n};
        assertClose("gemm", t, cpuMatmul(a, aDims, transA, b, bDims, transB, b1, b2, m, n),
                bench.download(t, c, cSize), cpuMatmul(abs(a), aDims, transA, abs(b), bDims, transB, b1, b2, m, n), k);
    }

    private static double[] cpuMatmul(double[] a, int[] aDims, boolean transA, double[] b, int[] bDims, boolean transB,
                                      int b1, int b2, int m, int n) {
        try (Tensor ta = cpu(a, aDims); Tensor tb = cpu(b, bDims); Tensor out = cpuZeros(b1, b2, m, n)) {
            ta.backend().linalg().matmul(ta, transA, tb, transB, out);
            return out.toDoubleArray();
        }
    }
}
