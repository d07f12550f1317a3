package io.jnorm.gpu.emu;

import java.math.BigInteger;

/**
 * Integer semantics where PTX and Java differ: shift counts clamp instead of wrapping, division
 * by zero yields a value instead of trapping, unsigned 64-bit arithmetic, bit-field operations.
 * Inputs are raw register bits; every method extends them at the instruction's type first.
 */
final class IntOps {
    private IntOps() {
    }

    /**
     * Division. PTX leaves x/0 unspecified; this returns what NVIDIA's division sequence yields:
     * all ones for unsigned, and for signed -1 when x >= 0, 1 when x < 0. INT_MIN / -1 wraps.
     */
    static long div(long a, long b, int t) {
        long x = Types.ext(a, t);
        long y = Types.ext(b, t);
        if (y == 0) {
            if (!Types.signed(t)) {
                return -1L;
            }
            return x >= 0 ? -1L : 1L;
        }
        if (t == Types.U64 || t == Types.B64) {
            return Long.divideUnsigned(x, y);
        }
        return x / y;
    }

    /** Remainder; x % 0 returns x (as the hardware sequence does). */
    static long rem(long a, long b, int t) {
        long x = Types.ext(a, t);
        long y = Types.ext(b, t);
        if (y == 0) {
            return x;
        }
        if (t == Types.U64 || t == Types.B64) {
            return Long.remainderUnsigned(x, y);
        }
        return x % y;
    }

    static long mulHi(long a, long b, int t) {
        switch (t) {
            case Types.S16:
                return ((short) a * (short) b) >> 16;
            case Types.U16:
                return ((a & 0xFFFF) * (b & 0xFFFF)) >>> 16;
            case Types.S32:
                return ((long) (int) a * (int) b) >> 32;
            case Types.U32:
                return ((a & 0xFFFFFFFFL) * (b & 0xFFFFFFFFL)) >>> 32;
            case Types.S64:
                return Math.multiplyHigh(a, b);
            default:
                return Math.multiplyHigh(a, b) + ((a >> 63) & b) + ((b >> 63) & a);
        }
    }

    /** mul.wide: the full product of two values of type t, twice as wide. */
    static long mulWide(long a, long b, int t) {
        switch (t) {
            case Types.S16:
                return (short) a * (short) b;
            case Types.U16:
                return (a & 0xFFFF) * (b & 0xFFFF);
            case Types.S32:
                return (long) (int) a * (int) b;
            default:
                return (a & 0xFFFFFFFFL) * (b & 0xFFFFFFFFL);
        }
    }

    /** mul24.lo (hi=false) or mul24.hi: the low or bits 16..47 of the 48-bit product of 24-bit values. */
    static long mul24(long a, long b, int t, boolean hi) {
        long x = Types.signed(t) ? ((int) a << 8) >> 8 : a & 0xFFFFFFL;
        long y = Types.signed(t) ? ((int) b << 8) >> 8 : b & 0xFFFFFFL;
        long p = x * y;
        return hi ? p >> 16 : p;
    }

    static long shl(long a, long count, int bits) {
        long n = count & 0xFFFFFFFFL;
        return n >= bits ? 0 : a << n;
    }

    static long shr(long a, long count, int t) {
        long n = count & 0xFFFFFFFFL;
        long x = Types.ext(a, t);
        int bits = Types.bits(t);
        if (Types.signed(t)) {
            return n >= bits ? (x < 0 ? -1L : 0L) : x >> n;
        }
        return n >= bits ? 0 : x >>> n;
    }

    static long min(long a, long b, int t) {
        long x = Types.ext(a, t);
        long y = Types.ext(b, t);
        return Types.compare(x, y, t) <= 0 ? x : y;
    }

    static long max(long a, long b, int t) {
        long x = Types.ext(a, t);
        long y = Types.ext(b, t);
        return Types.compare(x, y, t) >= 0 ? x : y;
    }

    /** Saturating add/sub of s32 (the only type PTX allows .sat on). */
    static long addSat(long a, long b, boolean sub) {
        long s = sub ? (long) (int) a - (int) b : (long) (int) a + (int) b;
        return Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, s));
    }

    static long popc(long a, int t) {
        return Types.bits(t) == 64 ? Long.bitCount(a) : Integer.bitCount((int) a);
    }

    static long clz(long a, int t) {
        return Types.bits(t) == 64 ? Long.numberOfLeadingZeros(a) : Integer.numberOfLeadingZeros((int) a);
    }

    static long brev(long a, int t) {
        return Types.bits(t) == 64 ? Long.reverse(a) : Integer.reverse((int) a) & 0xFFFFFFFFL;
    }

    /** bfind: bit position of the most significant non-sign bit, 0xFFFFFFFF if none. */
    static long bfind(long a, int t, boolean shiftAmount) {
        int bits = Types.bits(t);
        long x = Types.ext(a, t);
        if (Types.signed(t) && x < 0) {
            x = ~x;
        }
        if (bits == 32) {
            x &= 0xFFFFFFFFL;
        }
        if (x == 0) {
            return 0xFFFFFFFFL;
        }
        int pos = 63 - Long.numberOfLeadingZeros(x);
        return shiftAmount ? bits - 1 - pos : pos;
    }

    /** bfe: extract len bits at pos; signed types replicate the field's top bit (PTX ISA bfe). */
    static long bfe(long a, long b, long c, int t) {
        int bits = Types.bits(t);
        int msb = bits - 1;
        int pos = (int) (b & 0xFF);
        int len = (int) (c & 0xFF);
        long x = Types.ext(a, t);
        boolean sbit = false;
        if (Types.signed(t) && len != 0) {
            sbit = ((x >>> Math.min(pos + len - 1, msb)) & 1) != 0;
        }
        long d = 0;
        for (int i = 0; i <= msb; i++) {
            boolean bit = i < len && pos + i <= msb ? ((x >>> (pos + i)) & 1) != 0 : sbit;
            if (bit) {
                d |= 1L << i;
            }
        }
        return d;
    }

    /** bfi: insert the low len bits of f into b at pos. */
    static long bfi(long f, long b, long c, long dd, int t) {
        int msb = Types.bits(t) - 1;
        int pos = (int) (c & 0xFF);
        int len = (int) (dd & 0xFF);
        long d = b;
        for (int i = 0; i < len && pos + i <= msb; i++) {
            long bit = (f >>> i) & 1;
            d = (d & ~(1L << (pos + i))) | (bit << (pos + i));
        }
        return d;
    }

    /** prmt (default mode): each selector nibble picks a byte of {b,a}, bit 3 replicates its sign. */
    static long prmt(long a, long b, long c) {
        long src = (a & 0xFFFFFFFFL) | ((b & 0xFFFFFFFFL) << 32);
        long d = 0;
        for (int i = 0; i < 4; i++) {
            int sel = (int) (c >>> (4 * i)) & 0xF;
            long byteVal = (src >>> (8 * (sel & 7))) & 0xFF;
            if ((sel & 8) != 0) {
                byteVal = (byteVal & 0x80) != 0 ? 0xFF : 0;
            }
            d |= byteVal << (8 * i);
        }
        return d;
    }

    static long lop3(long a, long b, long c, int lut) {
        long d = 0;
        for (int i = 0; i < 8; i++) {
            if (((lut >> i) & 1) != 0) {
                d |= ((i & 4) != 0 ? a : ~a) & ((i & 2) != 0 ? b : ~b) & ((i & 1) != 0 ? c : ~c);
            }
        }
        return d;
    }

    /** u64 to BigInteger, for the rare unsigned conversions. */
    static BigInteger unsigned(long x) {
        return new BigInteger(Long.toUnsignedString(x));
    }
}
