package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.GEMM;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;
import static io.jnorm.backend.cuda.LaunchGeometry.tiles;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Typed launcher of gemm.ptx: batched C[t] = op(A) op(B) with two-level broadcast batch strides. */
final class CudaLinalgLaunchers {

    static final String MODULE = "gemm";
    /** Bytes of the kernel's by-value GemmParams. */
    static final int PARAMS_BYTES = 64;
    static final int TILE = 64;
    static final int MAX_GRID_Z = 65_535;

    /**
     * One batched product: C is [batch1 * batch2, m, n] contiguous; A is [m, k] (or [k, m] when
     * transA) at element offset t1 * aStride1 + t2 * aStride2 for batch (t1, t2), B likewise
     * [k, n] (or [n, k] when transB). A stride of 0 broadcasts the operand along that level.
     */
    record Gemm(int m, int n, int k, boolean transA, boolean transB, int batch1, int batch2,
                long aStride1, long aStride2, long bStride1, long bStride2) {

        /** A single (unbatched) product. */
        static Gemm of(int m, int n, int k, boolean transA, boolean transB) {
            return new Gemm(m, n, k, transA, transB, 1, 1, 0, 0, 0, 0);
        }

        byte[] pack(int z0) {
            ByteBuffer b = ByteBuffer.allocate(PARAMS_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(m).putInt(n).putInt(k).putInt(transA ? 1 : 0).putInt(transB ? 1 : 0).putInt(batch2).putInt(z0).putInt(0);
            b.putLong(aStride1).putLong(aStride2).putLong(bStride1).putLong(bStride2);
            return b.array();
        }
    }

    private final KernelHandle[] gemm;

    CudaLinalgLaunchers(PtxModules m) {
        gemm = m.perDType(MODULE, "gemm", PTR, PTR, PTR, GEMM);
    }

    /** gemm_T(A, B, C, GemmParams): one launch per 65,535 batches (the grid's z limit). */
    void gemm(DType t, DevicePointer a, DevicePointer b, DevicePointer c, Gemm g) {
        long batches = (long) g.batch1() * g.batch2();
        for (long z0 = 0; z0 < batches; z0 += MAX_GRID_Z) {
            int gz = (int) Math.min(MAX_GRID_Z, batches - z0);
            LaunchConfig grid = new LaunchConfig(tiles(g.n(), TILE), tiles(g.m(), TILE), gz, LaunchGeometry.BLOCK, 1, 1, 0);
            gemm[t.ordinal()].launch(grid, KernelArgs.of().ptr(a).ptr(b).ptr(c).bytes(g.pack((int) z0)));
        }
    }
}
