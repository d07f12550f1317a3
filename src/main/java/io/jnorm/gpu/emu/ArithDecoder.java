package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.PtxAst.NotPred;

import java.util.List;

/** Decodes integer, bit and floating-point arithmetic, with their rounding, ftz and sat modifiers. */
final class ArithDecoder {

    private final DecodeCursor c;

    ArithDecoder(DecodeCursor c) {
        this.c = c;
    }

    private void floatArith(Insn x, int opF32, int opF64, int n) {
        x.mode = Math.max(c.rounding(false), 0);
        x.ftz = c.take("ftz");
        x.sat = c.take("sat");
        x.type = c.floatType();
        c.done();
        c.arity(n);
        x.op = x.type == Types.F32 ? opF32 : opF64;
        if (x.type == Types.F64 && (x.ftz || x.sat)) {
            throw c.k.error(".ftz and .sat apply to .f32 only");
        }
        c.sources(x, n);
    }

    private boolean isFloatInstr() {
        return c.mods.contains("f32") || c.mods.contains("f64");
    }

    void addSub(Insn x, boolean sub) {
        if (isFloatInstr()) {
            floatArith(x, sub ? Op.SUB_F32 : Op.ADD_F32, sub ? Op.SUB_F64 : Op.ADD_F64, 3);
            return;
        }
        boolean sat = c.take("sat");
        x.type = c.type();
        c.done();
        c.arity(3);
        if (sat && x.type != Types.S32) {
            throw c.k.error("add/sub.sat needs .s32");
        }
        x.op = sat ? (sub ? Op.SUB_SAT : Op.ADD_SAT) : (sub ? Op.SUB : Op.ADD);
        c.sources(x, 3);
    }

    void mul(Insn x) {
        if (isFloatInstr()) {
            floatArith(x, Op.MUL_F32, Op.MUL_F64, 3);
            return;
        }
        String m = c.takeAny("lo", "hi", "wide");
        x.type = c.type();
        c.done();
        c.arity(3);
        x.op = m == null || m.equals("lo") ? Op.MUL_LO : m.equals("hi") ? Op.MUL_HI : Op.MUL_WIDE;
        if (x.op == Op.MUL_WIDE && Types.bits(x.type) == 64) {
            throw c.k.error("mul.wide needs a 16- or 32-bit type");
        }
        c.sources(x, 3);
    }

    void mad(Insn x) {
        if (isFloatInstr()) {
            floatArith(x, Op.FMA_F32, Op.FMA_F64, 4);
            return;
        }
        String m = c.takeAny("lo", "hi", "wide");
        x.type = c.type();
        c.done();
        c.arity(4);
        x.op = m == null || m.equals("lo") ? Op.MAD_LO : m.equals("hi") ? Op.MAD_HI : Op.MAD_WIDE;
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), x.type);
        x.b = c.k.src(c.op(2), x.type);
        x.c = c.k.src(c.op(3), x.op == Op.MAD_WIDE ? wide(x.type) : x.type);
    }

    private static int wide(int t) {
        switch (t) {
            case Types.S16: return Types.S32;
            case Types.U16: return Types.U32;
            case Types.S32: return Types.S64;
            default: return Types.U64;
        }
    }

    void mul24(Insn x, boolean mad) {
        String m = c.takeAny("lo", "hi");
        x.imm = "hi".equals(m) ? 1 : 0;
        x.type = c.type();
        c.done();
        x.op = mad ? Op.MAD24 : Op.MUL24;
        c.arity(mad ? 4 : 3);
        c.sources(x, mad ? 4 : 3);
    }

    void fma(Insn x) {
        floatArith(x, Op.FMA_F32, Op.FMA_F64, 4);
        if (!c.in.opcode().matches(".*\\.r[nzmp](\\..*|$)")) {
            throw c.k.error("fma needs a rounding modifier");
        }
    }

    void div(Insn x) {
        if (!isFloatInstr()) {
            intBinary(x, Op.DIV);
            return;
        }
        String kind = c.takeAny("approx", "full");
        x.mode = Math.max(c.rounding(false), 0);
        x.imm = kind == null ? 0 : 1;
        x.ftz = c.take("ftz");
        x.type = c.floatType();
        c.done();
        c.arity(3);
        x.op = Op.DIV_F;
        c.sources(x, 3);
    }

    void intBinary(Insn x, int opc) {
        x.type = c.type();
        c.done();
        c.arity(3);
        x.op = opc;
        c.sources(x, 3);
    }

    void minMax(Insn x, boolean min) {
        if (isFloatInstr()) {
            x.ftz = c.take("ftz");
            x.type = c.floatType();
            c.done();
            c.arity(3);
            x.op = min ? Op.MIN_F : Op.MAX_F;
            c.sources(x, 3);
            return;
        }
        intBinary(x, min ? Op.MIN : Op.MAX);
    }

    void absNeg(Insn x, boolean abs) {
        if (isFloatInstr()) {
            x.ftz = c.take("ftz");
            x.type = c.floatType();
            x.op = abs ? Op.ABS_F : Op.NEG_F;
        } else {
            x.type = c.type();
            x.op = abs ? Op.ABS : Op.NEG;
        }
        c.done();
        c.arity(2);
        c.sources(x, 2);
    }

    void logic(Insn x, String base) {
        x.type = c.type();
        c.done();
        c.arity(3);
        if (x.type == Types.PRED) {
            x.op = base.equals("and") ? Op.AND_P : base.equals("or") ? Op.OR_P : Op.XOR_P;
            x.d = c.k.pred(c.op(0));
            x.a = c.k.pred(c.op(1));
            x.negA = c.op(1) instanceof NotPred;
            x.b = c.k.pred(c.op(2));
            x.negC = c.op(2) instanceof NotPred;
            return;
        }
        x.op = base.equals("and") ? Op.AND : base.equals("or") ? Op.OR : Op.XOR;
        c.sources(x, 3);
    }

    void not(Insn x, boolean cnot) {
        x.type = c.type();
        c.done();
        c.arity(2);
        if (x.type == Types.PRED && !cnot) {
            x.op = Op.NOT_P;
            x.d = c.k.pred(c.op(0));
            x.a = c.k.pred(c.op(1));
            return;
        }
        x.op = cnot ? Op.CNOT : Op.NOT;
        c.sources(x, 2);
    }

    void shift(Insn x, boolean left) {
        x.type = c.type();
        c.done();
        c.arity(3);
        x.op = left ? Op.SHL : Op.SHR;
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), x.type);
        x.b = c.k.src(c.op(2), Types.U32);
    }

    void bitUnary(Insn x, String base) {
        x.type = c.type();
        c.done();
        c.arity(2);
        x.op = switch (base) {
            case "popc" -> Op.POPC;
            case "clz" -> Op.CLZ;
            case "brev" -> Op.BREV;
            default -> Op.BFIND;
        };
        c.sources(x, 2);
    }

    void lop3(Insn x) {
        x.type = c.type();
        c.done();
        c.arity(5);
        x.op = Op.LOP3;
        c.sources(x, 4);
        if (!(c.op(4) instanceof PtxAst.Imm lut)) {
            throw c.k.error("lop3 needs an immediate truth table");
        }
        x.imm = lut.bits() & 0xFF;
    }

    void floatUnary(Insn x, String base) {
        boolean approx = c.take("approx");
        int r = c.rounding(false);
        x.ftz = c.take("ftz");
        x.type = c.floatType();
        c.done();
        c.arity(2);
        x.mode = Math.max(r, 0);
        x.imm = approx ? 1 : 0;
        boolean exactAllowed = base.equals("rcp") || base.equals("sqrt");
        if (approx == (r >= 0) || (!approx && !exactAllowed)) {
            throw c.k.error(base + " needs " + (exactAllowed ? ".approx or a rounding modifier" : ".approx"));
        }
        x.op = switch (base) {
            case "rcp" -> Op.RCP_F;
            case "sqrt" -> Op.SQRT_F;
            case "rsqrt" -> Op.RSQRT_F;
            case "ex2" -> Op.EX2_F;
            case "lg2" -> Op.LG2_F;
            case "sin" -> Op.SIN_F;
            case "cos" -> Op.COS_F;
            default -> Op.TANH_F;
        };
        if (x.type == Types.F64 && approx && !(base.equals("rcp") || base.equals("rsqrt") || base.equals("sqrt"))) {
            throw c.k.error(base + ".approx.f64 does not exist");
        }
        c.sources(x, 2);
    }

    void testp(Insn x) {
        String m = c.takeAny("finite", "infinite", "number", "notanumber", "normal", "subnormal");
        if (m == null) {
            throw c.k.error("testp needs a test");
        }
        x.mode = List.of("finite", "infinite", "number", "notanumber", "normal", "subnormal").indexOf(m);
        x.type = c.floatType();
        c.done();
        c.arity(2);
        x.op = Op.TESTP_F;
        x.d = c.k.pred(c.op(0));
        x.a = c.k.src(c.op(1), x.type);
    }

}
