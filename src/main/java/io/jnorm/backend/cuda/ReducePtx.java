package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.F32;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.MAP1;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/** Typed launchers of src/main/cuda/reduce.cu. */
final class ReducePtx {
    static final String MODULE = "reduce";

    /** The kernels' mode argument. */
    static final int SUM = 0;
    static final int MEAN = 1;
    static final int VAR = 2;

    private final KernelHandle[] rows;
    private final KernelHandle[] rowsWarp;
    private final KernelHandle[] cols;
    private final KernelHandle[] general;
    private final KernelHandle[] varBackward;

    ReducePtx(PtxModules m) {
        rows = m.perDType(MODULE, "reduce_rows", I32, I32, I32, I32, PTR, PTR);
        rowsWarp = m.perDType(MODULE, "reduce_rows_warp", I32, I32, I32, I32, PTR, PTR);
        cols = m.perDType(MODULE, "reduce_cols", I32, I32, I32, I32, I32, PTR, PTR);
        general = m.perDType(MODULE, "reduce_general", I32, I32, I32, I32, PTR, PTR, MAP1, MAP1);
        varBackward = m.perDType(MODULE, "var_backward", I32, F32, PTR, PTR, PTR, PTR, MAP1);
    }

    /** reduce_rows_T(int mode, int correction, int rows, int len, const T* x, T* out). */
    void rows(DType t, LaunchConfig cfg, int mode, int correction, int nrows, int len, DevicePointer x,
              DevicePointer out) {
        rows[t.ordinal()].launch(cfg, KernelArgs.of().i32(mode).i32(correction).i32(nrows).i32(len).ptr(x).ptr(out));
    }

    /** reduce_rows_warp_T(int mode, int correction, int rows, int len, const T* x, T* out). */
    void rowsWarp(DType t, LaunchConfig cfg, int mode, int correction, int nrows, int len, DevicePointer x,
                  DevicePointer out) {
        rowsWarp[t.ordinal()].launch(cfg, KernelArgs.of().i32(mode).i32(correction).i32(nrows).i32(len).ptr(x)
                .ptr(out));
    }

    /** reduce_cols_T(int mode, int correction, int outer, int len, int inner, const T* x, T* out). */
    void cols(DType t, LaunchConfig cfg, int mode, int correction, int outer, int len, int inner, DevicePointer x,
              DevicePointer out) {
        cols[t.ordinal()].launch(cfg, KernelArgs.of().i32(mode).i32(correction).i32(outer).i32(len).i32(inner)
                .ptr(x).ptr(out));
    }

    /**
     * reduce_general_T(int mode, int correction, unsigned outputs, unsigned len, const T* x, T* out,
     * StridedMap&lt;1&gt; kept, StridedMap&lt;1&gt; reduced).
     */
    void general(DType t, LaunchConfig cfg, int mode, int correction, int outputs, int len, DevicePointer x,
                 DevicePointer out, byte[] kept, byte[] reduced) {
        general[t.ordinal()].launch(cfg, KernelArgs.of().i32(mode).i32(correction).i32(outputs).i32(len)
                .ptr(x).ptr(out).bytes(kept).bytes(reduced));
    }

    /**
     * var_backward_T(unsigned n, T denom, const T* x, const T* dy, const T* mean, T* dx,
     * StridedMap&lt;1&gt; to_out).
     */
    void varBackward(DType t, LaunchConfig cfg, int n, double denom, DevicePointer x, DevicePointer dy,
                     DevicePointer mean, DevicePointer dx, byte[] toOut) {
        varBackward[t.ordinal()].launch(cfg, ElementwisePtx.scalar(KernelArgs.of().i32(n), t, denom)
                .ptr(x).ptr(dy).ptr(mean).ptr(dx).bytes(toOut));
    }
}
