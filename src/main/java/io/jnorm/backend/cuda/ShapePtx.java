package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.MAP1;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/** Typed launchers of src/main/cuda/shape.cu. */
final class ShapePtx {
    static final String MODULE = "shape";

    private final KernelHandle[] gather;
    private final KernelHandle[] scatter;
    private final KernelHandle[] transpose;

    ShapePtx(PtxModules m) {
        gather = m.perDType(MODULE, "shape_gather", I32, I32, PTR, PTR, MAP1);
        scatter = m.perDType(MODULE, "shape_scatter", I32, I32, PTR, PTR, MAP1);
        transpose = m.perDType(MODULE, "shape_transpose", I32, I32, I32, PTR, PTR);
    }

    /** shape_gather_T(unsigned n, unsigned base, const T* x, T* out, StridedMap&lt;1&gt; map). */
    void gather(DType t, LaunchConfig cfg, int n, int base, DevicePointer x, DevicePointer out, byte[] map) {
        gather[t.ordinal()].launch(cfg, KernelArgs.of().i32(n).i32(base).ptr(x).ptr(out).bytes(map));
    }

    /** shape_scatter_T(unsigned n, unsigned base, const T* src, T* dst, StridedMap&lt;1&gt; map). */
    void scatter(DType t, LaunchConfig cfg, int n, int base, DevicePointer src, DevicePointer dst, byte[] map) {
        scatter[t.ordinal()].launch(cfg, KernelArgs.of().i32(n).i32(base).ptr(src).ptr(dst).bytes(map));
    }

    /** shape_transpose_T(int batch, int rows, int cols, const T* x, T* out); block (32, 8). */
    void transpose(DType t, LaunchConfig cfg, int batch, int rows, int cols, DevicePointer x, DevicePointer out) {
        transpose[t.ordinal()].launch(cfg, KernelArgs.of().i32(batch).i32(rows).i32(cols).ptr(x).ptr(out));
    }
}
