package io.jnorm.gpu.emu;

/**
 * Per-lane semantics of float instructions off the interpreter's fast path: directed rounding,
 * .ftz/.sat, conversions and the approximate functions. The approximate instructions return
 * the correctly rounded (or double-evaluated) value, which lies within the PTX ISA's error
 * bounds; tests must therefore never expect their exact bits from a GPU.
 */
final class FloatUnit {
    private FloatUnit() {
    }

    private static final double INV_LN2 = 1.4426950408889634;

    static long eval(Insn in, long a, long b, long c) {
        if (in.op == Op.CVT_F) {
            return Cvt.convert(a, in);
        }
        if (in.op == Op.SLCT) {
            boolean pick = in.srcType == Types.S32 ? (int) c >= 0
                    : (in.ftz ? Fp.ftz(Fp.f(c)) : Fp.f(c)) >= 0f;
            return pick ? a : b;
        }
        return in.type == Types.F32 ? f32(in, a, b, c) : f64(in, a, b, c);
    }

    private static long f32(Insn in, long ab, long bb, long cb) {
        boolean ftz = in.ftz;
        float a = Fp.f(ab);
        float b = Fp.f(bb);
        float c = Fp.f(cb);
        if (ftz) {
            a = Fp.ftz(a);
            b = Fp.ftz(b);
            c = Fp.ftz(c);
        }
        int mode = in.mode;
        float r;
        switch (in.op) {
            case Op.ADD_F32: r = Fp.add(a, b, mode); break;
            case Op.SUB_F32: r = Fp.add(a, -b, mode); break;
            case Op.MUL_F32: r = Fp.mul(a, b, mode); break;
            case Op.FMA_F32: r = Fp.fma(a, b, c, mode); break;
            case Op.DIV_F:
                if (in.imm == 1) {
                    // div.approx / div.full: within 2 ulp per the ISA; the exact quotient qualifies
                    r = a / b;
                } else {
                    r = Fp.div(a, b, mode);
                }
                break;
            case Op.RCP_F: r = in.imm == 1 ? 1f / a : Fp.div(1f, a, mode); break;
            case Op.SQRT_F: r = in.imm == 1 ? (float) Math.sqrt(a) : Fp.sqrt(a, mode); break;
            case Op.RSQRT_F: r = (float) (1.0 / Math.sqrt(a)); break;
            case Op.EX2_F: r = (float) Math.pow(2.0, a); break;
            case Op.LG2_F: r = (float) (Math.log(a) * INV_LN2); break;
            case Op.SIN_F: r = (float) Math.sin(a); break;
            case Op.COS_F: r = (float) Math.cos(a); break;
            case Op.TANH_F: r = (float) Math.tanh(a); break;
            case Op.ABS_F: r = Math.abs(a); break;
            case Op.NEG_F: r = -a; break;
            case Op.MIN_F: return ftz(Fp.min32(Fp.bits(a), Fp.bits(b)), ftz);
            case Op.MAX_F: return ftz(Fp.max32(Fp.bits(a), Fp.bits(b)), ftz);
            case Op.COPYSIGN_F: r = Math.copySign(b, a); break;
            default:
                throw new Fault(Fault.ILLEGAL, "no f32 semantics for opcode id " + in.op, -1);
        }
        if (ftz) {
            r = Fp.ftz(r);
        }
        if (in.sat) {
            r = Fp.sat(r);
        }
        return Fp.bits(r);
    }

    private static long ftz(long bits, boolean ftz) {
        return ftz ? Fp.bits(Fp.ftz(Fp.f(bits))) : bits;
    }

    private static long f64(Insn in, long ab, long bb, long cb) {
        double a = Fp.d(ab);
        double b = Fp.d(bb);
        double c = Fp.d(cb);
        int mode = in.mode;
        switch (in.op) {
            case Op.ADD_F64: return Fp.bits(Fp.add(a, b, mode));
            case Op.SUB_F64: return Fp.bits(Fp.add(a, -b, mode));
            case Op.MUL_F64: return Fp.bits(Fp.mul(a, b, mode));
            case Op.FMA_F64: return Fp.bits(Fp.fma(a, b, c, mode));
            case Op.DIV_F: return Fp.bits(in.imm == 1 ? a / b : Fp.div(a, b, mode));
            case Op.RCP_F: return Fp.bits(in.imm == 1 ? 1.0 / a : Fp.div(1.0, a, mode));
            case Op.SQRT_F: return Fp.bits(in.imm == 1 ? Math.sqrt(a) : Fp.sqrt(a, mode));
            case Op.RSQRT_F: return Fp.bits(1.0 / Math.sqrt(a));
            case Op.ABS_F: return ab & Long.MAX_VALUE;
            case Op.NEG_F: return ab ^ Long.MIN_VALUE;
            case Op.MIN_F: return Fp.min64(ab, bb);
            case Op.MAX_F: return Fp.max64(ab, bb);
            case Op.COPYSIGN_F: return Fp.bits(Math.copySign(b, a));
            default:
                throw new Fault(Fault.ILLEGAL, "no f64 semantics for opcode id " + in.op, -1);
        }
    }

    static boolean testp(Insn in, long bits) {
        double x = in.type == Types.F32 ? Fp.f(bits) : Fp.d(bits);
        double minNormal = in.type == Types.F32 ? Float.MIN_NORMAL : Double.MIN_NORMAL;
        switch (in.mode) {
            case 0: return Double.isFinite(x);
            case 1: return Double.isInfinite(x);
            case 2: return !Double.isNaN(x);
            case 3: return Double.isNaN(x);
            case 4: return Double.isFinite(x) && Math.abs(x) >= minNormal;
            default: return x != 0 && Math.abs(x) < minNormal;
        }
    }
}
