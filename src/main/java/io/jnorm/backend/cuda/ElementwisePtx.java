package io.jnorm.backend.cuda;

import static io.jnorm.backend.cuda.KernelHandle.Param.F32;
import static io.jnorm.backend.cuda.KernelHandle.Param.I32;
import static io.jnorm.backend.cuda.KernelHandle.Param.I64;
import static io.jnorm.backend.cuda.KernelHandle.Param.MAP2;
import static io.jnorm.backend.cuda.KernelHandle.Param.PTR;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import io.jnorm.tensor.DType;

/**
 * Typed launchers of src/main/cuda/elementwise.cu: one method per {@code .entry} family, its
 * parameters in the entry's order. Handles are looked up and checked once, when the backend
 * first uses the module.
 */
final class ElementwisePtx {
    static final String MODULE = "elementwise";

    private final KernelHandle[] unary;
    private final KernelHandle[] unaryBackward;
    private final KernelHandle[] binary;
    private final KernelHandle[] binaryBcast;
    private final KernelHandle[] pow;
    private final KernelHandle[] powBackward;
    private final KernelHandle[] fill;
    private final KernelHandle castF32ToF64;
    private final KernelHandle castF64ToF32;

    ElementwisePtx(PtxModules m) {
        unary = m.perDType(MODULE, "ew_unary", I32, I64, PTR, PTR);
        unaryBackward = m.perDType(MODULE, "ew_unary_backward", I32, I64, PTR, PTR, PTR);
        binary = m.perDType(MODULE, "ew_binary", I32, I32, I32, I64, PTR, PTR, PTR);
        binaryBcast = m.perDType(MODULE, "ew_binary_bcast", I32, I32, PTR, PTR, PTR, MAP2);
        pow = m.perDType(MODULE, "ew_pow", I64, F32, PTR, PTR);
        powBackward = m.perDType(MODULE, "ew_pow_backward", I64, F32, PTR, PTR, PTR);
        fill = m.perDType(MODULE, "ew_fill", I64, F32, PTR);
        castF32ToF64 = m.kernel(MODULE, "cast_f32_to_f64", I64, PTR, PTR);
        castF64ToF32 = m.kernel(MODULE, "cast_f64_to_f32", I64, PTR, PTR);
    }

    /** ew_unary_T(int op, long long n, const T* x, T* y). */
    void unary(DType t, LaunchConfig cfg, int op, long n, DevicePointer x, DevicePointer y) {
        unary[t.ordinal()].launch(cfg, KernelArgs.of().i32(op).i64(n).ptr(x).ptr(y));
    }

    /** ew_unary_backward_T(int op, long long n, const T* v, const T* dy, T* dx). */
    void unaryBackward(DType t, LaunchConfig cfg, int op, long n, DevicePointer v, DevicePointer dy, DevicePointer dx) {
        unaryBackward[t.ordinal()].launch(cfg, KernelArgs.of().i32(op).i64(n).ptr(v).ptr(dy).ptr(dx));
    }

    /** ew_binary_T(int op, int scalar_a, int scalar_b, long long n, const T* a, const T* b, T* out). */
    void binary(DType t, LaunchConfig cfg, int op, boolean scalarA, boolean scalarB, long n, DevicePointer a,
                DevicePointer b, DevicePointer out) {
        binary[t.ordinal()].launch(cfg, KernelArgs.of().i32(op).i32(scalarA ? 1 : 0).i32(scalarB ? 1 : 0).i64(n)
                .ptr(a).ptr(b).ptr(out));
    }

    /** ew_binary_bcast_T(int op, unsigned n, const T* a, const T* b, T* out, StridedMap&lt;2&gt; map). */
    void binaryBcast(DType t, LaunchConfig cfg, int op, int n, DevicePointer a, DevicePointer b, DevicePointer out,
                     byte[] map) {
        binaryBcast[t.ordinal()].launch(cfg, KernelArgs.of().i32(op).i32(n).ptr(a).ptr(b).ptr(out).bytes(map));
    }

    /** ew_pow_T(long long n, T p, const T* x, T* y). */
    void pow(DType t, LaunchConfig cfg, long n, double p, DevicePointer x, DevicePointer y) {
        pow[t.ordinal()].launch(cfg, scalar(KernelArgs.of().i64(n), t, p).ptr(x).ptr(y));
    }

    /** ew_pow_backward_T(long long n, T p, const T* x, const T* dy, T* dx). */
    void powBackward(DType t, LaunchConfig cfg, long n, double p, DevicePointer x, DevicePointer dy, DevicePointer dx) {
        powBackward[t.ordinal()].launch(cfg, scalar(KernelArgs.of().i64(n), t, p).ptr(x).ptr(dy).ptr(dx));
    }

    /** ew_fill_T(long long n, T v, T* y). */
    void fill(DType t, LaunchConfig cfg, long n, double v, DevicePointer y) {
        fill[t.ordinal()].launch(cfg, scalar(KernelArgs.of().i64(n), t, v).ptr(y));
    }

    /** cast_{from}_to_{to}(long long n, const From* x, To* y). */
    void cast(DType from, LaunchConfig cfg, long n, DevicePointer x, DevicePointer y) {
        (from == DType.F32 ? castF32ToF64 : castF64ToF32).launch(cfg, KernelArgs.of().i64(n).ptr(x).ptr(y));
    }

    static KernelArgs scalar(KernelArgs args, DType t, double v) {
        return t == DType.F32 ? args.f32((float) v) : args.f64(v);
    }
}
