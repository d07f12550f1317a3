package io.jnorm.gpu.emu;

/**
 * One pre-decoded instruction. Register operands are plane offsets ({@code slot * 32}) into the
 * warp's register file, so a lane's value is {@code regs[operand + lane]}; immediates and
 * special registers were turned into pre-filled slots, so every source is a register read.
 * Predicate operands are indices into the warp's predicate masks. Mutable only while decoding.
 */
final class Insn {
    int op;
    int d = -1;
    int a = -1;
    int b = -1;
    int c = -1;
    int e = -1;
    /** Second destination: the predicate of {@code shfl} / {@code setp p|q}, or -1. */
    int d2 = -1;
    /** Address offset, or an op-specific constant (lop3 table, bool op of setp ...). */
    long imm;
    /** 0xFFFFFFFF when the address register is 32-bit (shared/local addresses), else -1. */
    long addrMask = -1L;
    int guard = -1;
    boolean guardNeg;
    /** Rounding mode (Fp.RN ...), compare mask (Cmp), shuffle/vote/atomic sub-operation. */
    int mode;
    /** Instruction type (Types), and the source type of cvt. */
    int type;
    int srcType;
    /** Element size of a memory access in bytes and the vector length. */
    int size;
    int vec = 1;
    int[] vregs;
    int space;
    boolean ftz;
    boolean sat;
    /** True when no rounding, ftz or sat modifier asks for the slow path. */
    boolean plain;
    /** Negation of predicate source operands (vote, setp bool operand). */
    boolean negA;
    boolean negC;
    int target = -1;
    /** A branch target: lanes arriving by fall-through must regroup with lanes waiting here. */
    boolean join;
    /** Index of this instruction's source description (PTX line, text, .loc). */
    int src;
}
