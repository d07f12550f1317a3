package io.jnorm.gpu.emu;

/** Opcode ids of pre-decoded instructions: one per case of the interpreter's switch. */
final class Op {
    private Op() {
    }

    // data movement
    static final int MOV = 1, MOV_PRED = 2, PACK64 = 3, UNPACK64 = 4, PACK32 = 5, UNPACK32 = 6, CLOCK = 7,
            SELP = 8, CVT_I2I = 9, CVT_F = 10, CVTA = 11, SLCT = 12;
    // integer
    static final int ADD = 20, SUB = 21, MUL_LO = 22, MAD_LO = 23, MUL_HI = 24, MUL_WIDE = 25, MAD_HI = 26,
            MAD_WIDE = 27, MUL24 = 28, MAD24 = 29, DIV = 30, REM = 31, ABS = 32, NEG = 33, MIN = 34, MAX = 35,
            AND = 36, OR = 37, XOR = 38, NOT = 39, CNOT = 40, SHL = 41, SHR = 42, POPC = 43, CLZ = 44,
            BREV = 45, BFE = 46, BFI = 47, BFIND = 48, PRMT = 49, LOP3 = 50, ADD_SAT = 51, SUB_SAT = 52,
            SETP_I = 53;
    // predicates
    static final int AND_P = 60, OR_P = 61, XOR_P = 62, NOT_P = 63;
    // floating point
    static final int ADD_F32 = 70, SUB_F32 = 71, MUL_F32 = 72, FMA_F32 = 73, ADD_F64 = 74, SUB_F64 = 75,
            MUL_F64 = 76, FMA_F64 = 77, DIV_F = 78, RCP_F = 79, SQRT_F = 80, RSQRT_F = 81, EX2_F = 82,
            LG2_F = 83, SIN_F = 84, COS_F = 85, TANH_F = 86, ABS_F = 87, NEG_F = 88, MIN_F = 89, MAX_F = 90,
            COPYSIGN_F = 91, TESTP_F = 92, SETP_F32 = 93, SETP_F64 = 94;
    // control
    static final int BRA = 100, EXIT = 101, BAR_SYNC = 102, BAR_ARRIVE = 103, BAR_RED = 104, NOP = 105;
    // warp collectives
    static final int SHFL = 110, VOTE = 111, ACTIVEMASK = 112, REDUX = 113, WARP_SYNC = 114;
    // memory
    static final int LD = 120, ST = 121, ATOM = 122;

    /** Instructions that rendezvous the lanes of their member mask before executing. */
    static boolean isWarpSync(int op) {
        return op == SHFL || op == VOTE || op == REDUX || op == WARP_SYNC;
    }
}
