package io.jnorm.gpu.emu;

/** Per-lane semantics of the integer instructions the interpreter does not inline. */
final class IntUnit {
    private IntUnit() {
    }

    static long eval(Insn in, long a, long b, long c, long e) {
        int t = in.type;
        switch (in.op) {
            case Op.MUL_HI:
                return IntOps.mulHi(a, b, t);
            case Op.MAD_HI:
                return IntOps.mulHi(a, b, t) + c;
            case Op.MUL_WIDE:
                return IntOps.mulWide(a, b, t);
            case Op.MAD_WIDE:
                return IntOps.mulWide(a, b, t) + c;
            case Op.MUL24:
                return IntOps.mul24(a, b, t, in.imm == 1);
            case Op.MAD24:
                return IntOps.mul24(a, b, t, in.imm == 1) + c;
            case Op.DIV:
                return IntOps.div(a, b, t);
            case Op.REM:
                return IntOps.rem(a, b, t);
            case Op.ABS:
                return Math.abs(Types.ext(a, Types.signed(t) ? t : t + 4));
            case Op.MIN:
                return IntOps.min(a, b, t);
            case Op.MAX:
                return IntOps.max(a, b, t);
            case Op.CNOT:
                return Types.ext(a, t) == 0 ? 1 : 0;
            case Op.POPC:
                return IntOps.popc(a, t);
            case Op.CLZ:
                return IntOps.clz(a, t);
            case Op.BREV:
                return IntOps.brev(a, t);
            case Op.BFIND:
                return IntOps.bfind(a, t, in.imm == 1);
            case Op.BFE:
                return IntOps.bfe(a, b, c, t);
            case Op.BFI:
                return IntOps.bfi(a, b, c, e, t);
            case Op.PRMT:
                return IntOps.prmt(a, b, c);
            case Op.LOP3:
                return IntOps.lop3(a, b, c, (int) in.imm);
            case Op.ADD_SAT:
                return IntOps.addSat(a, b, false);
            case Op.SUB_SAT:
                return IntOps.addSat(a, b, true);
            case Op.PACK64:
                return (a & 0xFFFFFFFFL) | (b << 32);
            case Op.PACK32:
                return (a & 0xFFFFL) | ((b & 0xFFFFL) << 16);
            default:
                throw new Fault(Fault.ILLEGAL, "no integer semantics for opcode id " + in.op, -1);
        }
    }
}
