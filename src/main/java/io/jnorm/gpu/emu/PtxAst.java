package io.jnorm.gpu.emu;

import java.util.List;
import java.util.Map;

/** The parsed form of a PTX module, before decoding: names are still names. */
final class PtxAst {
    private PtxAst() {
    }

    sealed interface Operand permits Reg, Imm, Sym, Addr, Vec, Pair, Sink, NotPred, Group {
    }

    /** A register, including special registers such as {@code %tid.x}. */
    record Reg(String name) implements Operand {
    }

    /** An immediate: an integer, f32 bits ({@code 0f...}), f64 bits ({@code 0d...}) or a decimal float. */
    record Imm(long bits, ImmKind kind) implements Operand {
    }

    enum ImmKind { INT, F32_BITS, F64_BITS, DECIMAL_F64 }

    /** A variable, parameter, function or label name used as a value. */
    record Sym(String name) implements Operand {
    }

    /** {@code [base+offset]}; base is a register or symbol name, or null for an absolute address. */
    record Addr(String base, long offset) implements Operand {
    }

    record Vec(List<Operand> elems) implements Operand {
    }

    /** {@code %r1|%p2}: a value destination with a predicate destination. */
    record Pair(Operand value, Operand pred) implements Operand {
    }

    /** {@code _}: a discarded vector element or destination. */
    record Sink() implements Operand {
    }

    record NotPred(String name) implements Operand {
    }

    /** A parenthesised list, as in {@code call (retval0), f, (param0, param1)}. */
    record Group(List<Operand> items) implements Operand {
    }

    sealed interface Stmt permits Instr, Label, Decl, Open, Close {
        int line();
    }

    /** Source position from {@code .loc}: file index and line, or null without line info. */
    record Loc(int file, int line) {
    }

    record Instr(String opcode, String guard, boolean guardNeg, List<Operand> ops, int line, Loc loc)
            implements Stmt {
    }

    record Label(String name, int line) implements Stmt {
    }

    /**
     * A declaration in a state space. {@code regRange} is N for {@code %r<N>} (else -1);
     * {@code arrayLen} is -1 for a scalar, 0 for an unsized {@code []} (dynamic shared memory).
     */
    record Decl(String space, String type, int align, String name, int regRange, long arrayLen, byte[] init,
                int line) implements Stmt {
    }

    record Open(int line) implements Stmt {
    }

    record Close(int line) implements Stmt {
    }

    record Param(String name, String type, int size, int align, boolean array) {
    }

    record Function(String name, boolean entry, List<Param> params, List<Param> rets, List<Stmt> body,
                    int line, int[] maxntid, int[] reqntid) {
    }

    record Module(String name, String[] lines, List<Function> functions, List<Decl> globals,
                  Map<Integer, String> files) {
        String lineText(int line) {
            return line >= 1 && line <= lines.length ? lines[line - 1].strip() : "";
        }
    }

    /** Size in bytes of a PTX fundamental type name without the dot, or -1. */
    static int typeSize(String t) {
        switch (t) {
            case "b8": case "u8": case "s8": case "pred":
                return 1;
            case "b16": case "u16": case "s16": case "f16": case "bf16":
                return 2;
            case "b32": case "u32": case "s32": case "f32": case "f16x2": case "bf16x2":
                return 4;
            case "b64": case "u64": case "s64": case "f64":
                return 8;
            case "b128":
                return 16;
            default:
                return -1;
        }
    }
}
