package io.jnorm.gpu.emu;

import java.math.BigDecimal;

/**
 * {@code cvt} whenever a float type is involved. Float-to-integer conversions saturate to the
 * destination range and map NaN to 0 (PTX semantics; Java's casts agree only for signed
 * destinations). {@code Insn.imm == 1} marks the integer-rounding modifiers (.rni .rzi .rmi .rpi).
 */
final class Cvt {
    private Cvt() {
    }

    static long convert(long a, Insn in) {
        int dt = in.type;
        int st = in.srcType;
        boolean intRound = in.imm == 1;
        if (Types.isFloat(st)) {
            double x = st == Types.F32 ? (in.ftz ? Fp.ftz(Fp.f(a)) : Fp.f(a)) : Fp.d(a);
            if (Types.isFloat(dt)) {
                if (intRound) {
                    x = roundToInteger(x, in.mode);
                }
                if (dt == Types.F32) {
                    float r = st == Types.F64 && !intRound ? Fp.toF32(x, in.mode) : (float) x;
                    if (in.ftz) {
                        r = Fp.ftz(r);
                    }
                    if (in.sat) {
                        r = Fp.sat(r);
                    }
                    return Fp.bits(r);
                }
                return Fp.bits(in.sat ? Fp.sat(x) : x);
            }
            return saturate(roundToInteger(x, in.mode), dt);
        }
        long v = Types.ext(a, st);
        boolean unsigned64 = st == Types.U64 || st == Types.B64;
        BigDecimal exact = null;
        if (unsigned64 && v < 0) {
            exact = new BigDecimal(IntOps.unsigned(v));
        }
        if (dt == Types.F32) {
            float r = exact != null ? exact.floatValue() : (float) v;
            if (in.mode != Fp.RN && Float.isFinite(r)) {
                BigDecimal e = exact != null ? exact : BigDecimal.valueOf(v);
                r = Fp.round(r, e.compareTo(new BigDecimal(r)), in.mode);
            }
            return Fp.bits(in.sat ? Fp.sat(r) : r);
        }
        double r = exact != null ? exact.doubleValue() : (double) v;
        if (in.mode != Fp.RN) {
            BigDecimal e = exact != null ? exact : BigDecimal.valueOf(v);
            r = Fp.round(r, e.compareTo(new BigDecimal(r)), in.mode);
        }
        return Fp.bits(in.sat ? Fp.sat(r) : r);
    }

    static double roundToInteger(double x, int mode) {
        switch (mode) {
            case Fp.RN:
                return Math.rint(x);
            case Fp.RM:
                return Math.floor(x);
            case Fp.RP:
                return Math.ceil(x);
            default:
                return x < 0 ? Math.ceil(x) : Math.floor(x);
        }
    }

    /** An integral double to an integer type, clamped to its range; NaN gives 0. */
    static long saturate(double x, int dt) {
        if (Double.isNaN(x)) {
            return 0;
        }
        switch (dt) {
            case Types.S8:
                return (long) Math.max(-128, Math.min(127, x));
            case Types.S16:
                return (long) Math.max(-32768, Math.min(32767, x));
            case Types.S32:
                return (int) x;
            case Types.S64:
                return (long) x;
            case Types.U8: case Types.B8:
                return (long) Math.max(0, Math.min(255, x));
            case Types.U16: case Types.B16:
                return (long) Math.max(0, Math.min(65535, x));
            case Types.U32: case Types.B32:
                return (long) Math.max(0, Math.min(4294967295.0, x));
            default:
                if (x <= 0) {
                    return 0;
                }
                if (x >= 0x1p64) {
                    return -1L;
                }
                return x >= 0x1p63 ? ((long) (x - 0x1p63)) ^ Long.MIN_VALUE : (long) x;
        }
    }

    /** Integer-to-integer cvt: the source value, saturated (.sat) or wrapped to the destination. */
    static long intToInt(long a, Insn in) {
        long v = Types.ext(a, in.srcType);
        int dt = in.type;
        if (in.sat) {
            boolean srcUnsigned64 = in.srcType == Types.U64 || in.srcType == Types.B64;
            int bits = Types.bits(dt);
            if (Types.signed(dt)) {
                long lo = bits == 64 ? Long.MIN_VALUE : -(1L << (bits - 1));
                long hi = bits == 64 ? Long.MAX_VALUE : (1L << (bits - 1)) - 1;
                if (srcUnsigned64 && v < 0) {
                    v = hi;
                } else {
                    v = Math.max(lo, Math.min(hi, v));
                }
            } else if (bits < 64) {
                long hi = (1L << bits) - 1;
                v = (srcUnsigned64 && v < 0) ? hi : Math.max(0, Math.min(hi, v));
            } else if (Types.signed(in.srcType) && v < 0) {
                v = 0;
            }
        }
        return Types.ext(v, dt);
    }
}
