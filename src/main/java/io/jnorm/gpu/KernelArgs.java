package io.jnorm.gpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Typed kernel arguments, in {@code .entry} order. Each value knows its size, so a launch can
 * check it against the kernel's parameter list before packing it into the parameter buffer.
 */
public final class KernelArgs {

    /** What kind of value an argument is. */
    public enum Kind { POINTER, I32, I64, F32, F64, BYTES }

    /** One argument: its kind and its little-endian bytes. */
    public record Arg(Kind kind, byte[] bytes, DevicePointer pointer) {
        public int size() {
            return bytes.length;
        }
    }

    private final List<Arg> args = new ArrayList<>();

    public static KernelArgs of() {
        return new KernelArgs();
    }

    public KernelArgs ptr(DevicePointer p) {
        if (p == null) {
            throw new IllegalArgumentException("KernelArgs.ptr: null device pointer (argument " + args.size() + ")");
        }
        args.add(new Arg(Kind.POINTER, le(p.address(), 8), p));
        return this;
    }

    /** A raw device address, e.g. a pointer into the middle of an allocation. */
    public KernelArgs address(long address) {
        args.add(new Arg(Kind.POINTER, le(address, 8), null));
        return this;
    }

    public KernelArgs i32(int v) {
        args.add(new Arg(Kind.I32, le(v, 4), null));
        return this;
    }

    public KernelArgs i64(long v) {
        args.add(new Arg(Kind.I64, le(v, 8), null));
        return this;
    }

    public KernelArgs f32(float v) {
        args.add(new Arg(Kind.F32, le(Float.floatToRawIntBits(v), 4), null));
        return this;
    }

    public KernelArgs f64(double v) {
        args.add(new Arg(Kind.F64, le(Double.doubleToRawLongBits(v), 8), null));
        return this;
    }

    /** A by-value struct, already laid out little-endian as the kernel expects. */
    public KernelArgs bytes(byte[] v) {
        args.add(new Arg(Kind.BYTES, v.clone(), null));
        return this;
    }

    public List<Arg> list() {
        return Collections.unmodifiableList(args);
    }

    public int size() {
        return args.size();
    }

    /**
     * Checks these arguments against a kernel's parameter list: same count, same size, and
     * pointers only where the PTX declares a 64-bit parameter.
     *
     * @throws IllegalArgumentException naming the kernel and the first mismatching parameter
     */
    public void checkAgainst(GpuKernel kernel) {
        List<KernelParam> params = kernel.params();
        if (params.size() != args.size()) {
            throw new IllegalArgumentException(String.format(
                    "kernel %s takes %d parameters %s, got %d arguments", kernel.name(), params.size(),
                    describe(params), args.size()));
        }
        for (int i = 0; i < params.size(); i++) {
            KernelParam p = params.get(i);
            Arg a = args.get(i);
            if (p.sizeBytes() != a.size()) {
                throw new IllegalArgumentException(String.format(
                        "kernel %s parameter %d (%s .%s, %d bytes) got a %s argument of %d bytes",
                        kernel.name(), i, p.name(), p.ptxType(), p.sizeBytes(), a.kind(), a.size()));
            }
            boolean floatParam = p.ptxType().startsWith("f");
            boolean floatArg = a.kind() == Kind.F32 || a.kind() == Kind.F64;
            if (a.kind() != Kind.BYTES && floatParam != floatArg) {
                throw new IllegalArgumentException(String.format(
                        "kernel %s parameter %d (%s .%s) got a %s argument", kernel.name(), i, p.name(),
                        p.ptxType(), a.kind()));
            }
        }
    }

    private static String describe(List<KernelParam> params) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < params.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append('.').append(params.get(i).ptxType()).append(' ').append(params.get(i).name());
        }
        return sb.append(')').toString();
    }

    private static byte[] le(long v, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }
}
