package io.jnorm.gpu.emu;

/**
 * PTX fundamental types as small ints. Registers hold raw bits in a {@code long}; an instruction
 * reads them at its own width and signedness with {@link #ext}, so the bits above a 32-bit
 * value may be stale and never matter.
 */
final class Types {
    private Types() {
    }

    static final int B8 = 0, B16 = 1, B32 = 2, B64 = 3, U8 = 4, U16 = 5, U32 = 6, U64 = 7, S8 = 8, S16 = 9,
            S32 = 10, S64 = 11, F16 = 12, F32 = 13, F64 = 14, PRED = 15;

    private static final String[] NAMES = {"b8", "b16", "b32", "b64", "u8", "u16", "u32", "u64", "s8", "s16",
        "s32", "s64", "f16", "f32", "f64", "pred"};

    /** The type code of a name without its dot, or -1. */
    static int of(String name) {
        for (int i = 0; i < NAMES.length; i++) {
            if (NAMES[i].equals(name)) {
                return i;
            }
        }
        return -1;
    }

    static String name(int t) {
        return NAMES[t];
    }

    static int bits(int t) {
        switch (t) {
            case B8: case U8: case S8:
                return 8;
            case B16: case U16: case S16: case F16:
                return 16;
            case B32: case U32: case S32: case F32:
                return 32;
            case PRED:
                return 1;
            default:
                return 64;
        }
    }

    static boolean signed(int t) {
        return t == S8 || t == S16 || t == S32 || t == S64;
    }

    static boolean isFloat(int t) {
        return t == F16 || t == F32 || t == F64;
    }

    static boolean isInt(int t) {
        return t >= B8 && t <= S64;
    }

    /** The value of raw register bits read as type {@code t}: sign- or zero-extended to 64 bits. */
    static long ext(long v, int t) {
        switch (t) {
            case B8: case U8:
                return v & 0xFFL;
            case S8:
                return (byte) v;
            case B16: case U16: case F16:
                return v & 0xFFFFL;
            case S16:
                return (short) v;
            case B32: case U32: case F32:
                return v & 0xFFFFFFFFL;
            case S32:
                return (int) v;
            default:
                return v;
        }
    }

    /** Unsigned comparison for 64-bit unsigned types, signed otherwise (narrower values are extended). */
    static int compare(long x, long y, int t) {
        return (t == U64 || t == B64) ? Long.compareUnsigned(x, y) : Long.compare(x, y);
    }
}
