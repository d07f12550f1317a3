package io.jnorm.gpu.emu;

import java.lang.invoke.VarHandle;

/**
 * Read-modify-write of atom/red. Every operation is a compare-and-set loop on the backing
 * array, so blocks that run on several worker threads update global memory atomically.
 */
final class Atomics {
    private Atomics() {
    }

    /** Operations of atom/red ({@code Insn.mode}), in the order of their PTX names. */
    static final int A_ADD = 0, A_MIN = 1, A_MAX = 2, A_INC = 3, A_DEC = 4, A_AND = 5, A_OR = 6, A_XOR = 7,
            A_EXCH = 8, A_CAS = 9;

    /** Applies the operation and returns the old value's raw bits. */
    static long apply(byte[] data, int off, int size, Insn in, long b, long c) {
        VarHandle h = size == 4 ? DeviceMemory.I32 : DeviceMemory.I64;
        while (true) {
            long old = size == 4 ? (int) h.getVolatile(data, off) & 0xFFFFFFFFL : (long) h.getVolatile(data, off);
            long nv = combine(old, b, c, in);
            boolean ok = size == 4 ? h.compareAndSet(data, off, (int) old, (int) nv)
                    : h.compareAndSet(data, off, old, nv);
            if (ok) {
                return old;
            }
        }
    }

    private static long combine(long old, long b, long c, Insn in) {
        int t = in.type;
        switch (in.mode) {
            case A_ADD:
                if (t == Types.F32) {
                    float r = Fp.ftz(Fp.ftz(Fp.f(old)) + Fp.ftz(Fp.f(b)));
                    return Fp.bits(r);
                }
                if (t == Types.F64) {
                    return Fp.bits(Fp.d(old) + Fp.d(b));
                }
                return old + b;
            case A_MIN:
                if (t == Types.F32) {
                    return Fp.min32(old, b);
                }
                if (t == Types.F64) {
                    return Fp.min64(old, b);
                }
                return IntOps.min(old, b, t);
            case A_MAX:
                if (t == Types.F32) {
                    return Fp.max32(old, b);
                }
                if (t == Types.F64) {
                    return Fp.max64(old, b);
                }
                return IntOps.max(old, b, t);
            case A_INC: {
                long o = Types.ext(old, Types.U32);
                return Long.compareUnsigned(o, Types.ext(b, Types.U32)) >= 0 ? 0 : o + 1;
            }
            case A_DEC: {
                long o = Types.ext(old, Types.U32);
                long bv = Types.ext(b, Types.U32);
                return o == 0 || o > bv ? bv : o - 1;
            }
            case A_AND:
                return old & b;
            case A_OR:
                return old | b;
            case A_XOR:
                return old ^ b;
            case A_EXCH:
                return b;
            default:
                return Types.ext(old, t) == Types.ext(b, t) ? c : old;
        }
    }
}
