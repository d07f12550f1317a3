package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.PtxAst.NotPred;
import io.jnorm.gpu.emu.PtxAst.Pair;
import io.jnorm.gpu.emu.PtxAst.Sym;

import java.util.List;

/** Decodes comparisons and selects, branches, barriers and the warp-synchronous instructions. */
final class ControlDecoder {

    private final DecodeCursor c;

    ControlDecoder(DecodeCursor c) {
        this.c = c;
    }

    /** Compare masks: bit 0 less, bit 1 equal, bit 2 greater, bit 3 unordered (a NaN operand). */
    static int compareMask(String cmp) {
        switch (cmp) {
            case "eq": return 2;
            case "ne": return 5;
            case "lt": case "lo": return 1;
            case "le": case "ls": return 3;
            case "gt": case "hi": return 4;
            case "ge": case "hs": return 6;
            case "equ": return 10;
            case "neu": return 13;
            case "ltu": return 9;
            case "leu": return 11;
            case "gtu": return 12;
            case "geu": return 14;
            case "num": return 7;
            case "nan": return 8;
            default: return -1;
        }
    }

    void setp(Insn x) {
        String cmp = null;
        for (String m : c.mods) {
            if (compareMask(m) >= 0) {
                cmp = m;
                break;
            }
        }
        if (cmp == null) {
            throw c.k.error("setp needs a comparison");
        }
        c.mods.remove(cmp);
        x.mode = compareMask(cmp);
        String bool = c.takeAny("and", "or", "xor");
        x.imm = bool == null ? 0 : bool.equals("and") ? 1 : bool.equals("or") ? 2 : 3;
        x.ftz = c.take("ftz");
        x.type = c.type();
        c.done();
        boolean isFloat = Types.isFloat(x.type);
        if (!isFloat && (x.mode & 8) != 0) {
            throw c.k.error("unordered comparisons need a float type");
        }
        x.op = x.type == Types.F32 ? Op.SETP_F32 : x.type == Types.F64 ? Op.SETP_F64 : Op.SETP_I;
        c.arity(bool == null ? 3 : 4);
        if (c.op(0) instanceof Pair p) {
            x.d = c.k.pred(p.value());
            x.d2 = c.k.pred(p.pred());
        } else {
            x.d = c.k.pred(c.op(0));
        }
        x.a = c.k.src(c.op(1), x.type);
        x.b = c.k.src(c.op(2), x.type);
        if (bool != null) {
            x.c = c.k.pred(c.op(3));
            x.negC = c.op(3) instanceof NotPred;
        }
    }

    void selp(Insn x) {
        x.type = c.type();
        c.done();
        c.arity(4);
        x.op = Op.SELP;
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), x.type);
        x.b = c.k.src(c.op(2), x.type);
        x.c = c.k.pred(c.op(3));
    }

    void slct(Insn x) {
        x.ftz = c.take("ftz");
        List<Integer> t = c.types();
        c.done();
        c.arity(4);
        if (t.size() != 2 || (t.get(1) != Types.S32 && t.get(1) != Types.F32)) {
            throw c.k.error("slct needs a data type and .s32 or .f32");
        }
        x.op = Op.SLCT;
        x.type = t.get(0);
        x.srcType = t.get(1);
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), x.type);
        x.b = c.k.src(c.op(2), x.type);
        x.c = c.k.src(c.op(3), x.srcType);
    }

    void bra(Insn x) {
        c.take("uni");
        c.done();
        c.arity(1);
        if (!(c.op(0) instanceof Sym)) {
            throw c.k.error("bra needs a label");
        }
        x.op = Op.BRA;
    }

    void barrier(Insn x) {
        if (c.take("warp")) {
            if (!c.take("sync")) {
                throw c.k.error("expected bar.warp.sync");
            }
            c.done();
            c.arity(1);
            x.op = Op.WARP_SYNC;
            x.e = c.k.src(c.op(0), Types.B32);
            return;
        }
        c.take("aligned");
        if (c.take("red")) {
            String r = c.takeAny("popc", "and", "or");
            if (r == null) {
                throw c.k.error("bar.red needs .popc, .and or .or");
            }
            x.mode = r.equals("popc") ? 0 : r.equals("and") ? 1 : 2;
            x.type = c.type();
            c.done();
            x.op = Op.BAR_RED;
            int n = c.in.ops().size();
            if (n != 3 && n != 4) {
                throw c.k.error("bar.red needs 3 or 4 operands");
            }
            x.d = x.mode == 0 ? c.k.dst(c.op(0)) : c.k.pred(c.op(0));
            x.a = c.k.src(c.op(1), Types.U32);
            x.b = n == 4 ? c.k.src(c.op(2), Types.U32) : -1;
            x.c = c.k.pred(c.op(n - 1));
            x.negC = c.op(n - 1) instanceof NotPred;
            return;
        }
        String kind = c.takeAny("sync", "arrive");
        if (kind == null) {
            kind = "sync";
        }
        c.done();
        x.op = kind.equals("sync") ? Op.BAR_SYNC : Op.BAR_ARRIVE;
        if (c.in.ops().isEmpty() || c.in.ops().size() > 2) {
            throw c.k.error("bar." + kind + " needs a barrier id and an optional thread count");
        }
        x.a = c.k.src(c.op(0), Types.U32);
        x.b = c.in.ops().size() == 2 ? c.k.src(c.op(1), Types.U32) : -1;
        if (x.op == Op.BAR_ARRIVE && x.b < 0) {
            throw c.k.error("bar.arrive needs a thread count");
        }
    }

    void shfl(Insn x) {
        if (!c.take("sync")) {
            throw c.k.error("only shfl.sync is supported (shfl without .sync is gone since sm_70)");
        }
        String m = c.takeAny("up", "down", "bfly", "idx");
        if (m == null) {
            throw c.k.error("shfl needs .up, .down, .bfly or .idx");
        }
        x.mode = List.of("up", "down", "bfly", "idx").indexOf(m);
        x.type = c.type();
        c.done();
        c.arity(5);
        x.op = Op.SHFL;
        if (c.op(0) instanceof Pair p) {
            x.d = c.k.dst(p.value());
            x.d2 = c.k.pred(p.pred());
        } else {
            x.d = c.k.dst(c.op(0));
        }
        x.a = c.k.src(c.op(1), Types.B32);
        x.b = c.k.src(c.op(2), Types.U32);
        x.c = c.k.src(c.op(3), Types.U32);
        x.e = c.k.src(c.op(4), Types.B32);
    }

    void vote(Insn x) {
        if (!c.take("sync")) {
            throw c.k.error("only vote.sync is supported");
        }
        String m = c.takeAny("all", "any", "uni", "ballot");
        if (m == null) {
            throw c.k.error("vote needs .all, .any, .uni or .ballot");
        }
        x.mode = List.of("all", "any", "uni", "ballot").indexOf(m);
        x.type = c.type();
        c.done();
        c.arity(3);
        x.op = Op.VOTE;
        x.d = x.mode == 3 ? c.k.dst(c.op(0)) : c.k.pred(c.op(0));
        x.a = c.k.pred(c.op(1));
        x.negA = c.op(1) instanceof NotPred;
        x.e = c.k.src(c.op(2), Types.B32);
    }

    void redux(Insn x) {
        if (!c.take("sync")) {
            throw c.k.error("redux needs .sync");
        }
        String m = c.takeAny("add", "min", "max", "and", "or", "xor");
        if (m == null) {
            throw c.k.error("redux needs an operation");
        }
        x.mode = List.of("add", "min", "max", "and", "or", "xor").indexOf(m);
        x.type = c.type();
        c.done();
        c.arity(3);
        x.op = Op.REDUX;
        x.d = c.k.dst(c.op(0));
        x.a = c.k.src(c.op(1), x.type);
        x.e = c.k.src(c.op(2), Types.B32);
    }

}
