package io.jnorm.gpu.emu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static io.jnorm.gpu.emu.OpHarness.one;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Integer instructions against bit patterns derived by hand from the PTX ISA. */
class IntegerInstructionTest {

    private static long u32(long v) {
        return v & 0xFFFFFFFFL;
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        // op, a, b, expected (u32 bits)
        "div.s32, 7, -2, 0xFFFFFFFD",
        "div.s32, -7, 2, 0xFFFFFFFD",
        "rem.s32, -7, 2, 0xFFFFFFFF",
        "rem.s32, 7, -2, 1",
        "div.s32, -2147483648, -1, 0x80000000",
        "rem.s32, -2147483648, -1, 0",
        "div.u32, 0xFFFFFFFE, 2, 0x7FFFFFFF",
        "div.u32, 5, 0, 0xFFFFFFFF",
        "div.s32, 5, 0, 0xFFFFFFFF",
        "div.s32, -5, 0, 1",
        "rem.u32, 5, 0, 5",
        "mul.hi.s32, -2, 3, 0xFFFFFFFF",
        "mul.hi.u32, 0xFFFFFFFE, 3, 2",
        "mul.lo.s32, 0x10000, 0x10000, 0",
        "add.s32, 0x7FFFFFFF, 1, 0x80000000",
        "add.sat.s32, 0x7FFFFFFF, 1, 0x7FFFFFFF",
        "sub.sat.s32, -2147483648, 1, 0x80000000",
        "shl.b32, 1, 31, 0x80000000",
        "shl.b32, 1, 32, 0",
        "shl.b32, 1, 0xFFFFFFFF, 0",
        "shr.u32, 0x80000000, 31, 1",
        "shr.u32, 0x80000000, 33, 0",
        "shr.s32, 0x80000000, 31, 0xFFFFFFFF",
        "shr.s32, 0x80000000, 40, 0xFFFFFFFF",
        "shr.s32, 0x40000000, 40, 0",
        "min.s32, -1, 1, 0xFFFFFFFF",
        "min.u32, 0xFFFFFFFF, 1, 1",
        "max.u32, 0xFFFFFFFF, 1, 0xFFFFFFFF",
        "max.s32, -1, 1, 1"})
    void binary32(String op, String a, String b, String expected) {
        assertEquals(Long.decode(expected), one(op + " %d, %a0, %a1;", "b32", "b32", parse(a), parse(b)));
    }

    private static long parse(String s) {
        return u32(Long.decode(s));
    }

    @Test
    void sixtyFourBitEdges() {
        long max = Long.MAX_VALUE;
        assertEquals(Long.MIN_VALUE, one("add.s64 %d, %a0, %a1;", "b64", "b64", max, 1));
        assertEquals(-1L, one("div.u64 %d, %a0, %a1;", "b64", "b64", 9, 0));
        assertEquals(0x7FFFFFFFFFFFFFFFL, one("div.u64 %d, %a0, %a1;", "b64", "b64", -2L, 2));
        assertEquals(1L, one("rem.u64 %d, %a0, %a1;", "b64", "b64", -1L, 2));
        // (2^64-1)^2 = 2^128 - 2^65 + 1: high word 0xFFFFFFFFFFFFFFFE
        assertEquals(0xFFFFFFFFFFFFFFFEL, one("mul.hi.u64 %d, %a0, %a1;", "b64", "b64", -1L, -1L));
        assertEquals(0L, one("mul.hi.s64 %d, %a0, %a1;", "b64", "b64", -1L, -1L));
        assertEquals(0L, one("shl.b64 %d, %a0, %a1;", "b64", "b64", 1, 64));
        assertEquals(Long.MIN_VALUE, one("shl.b64 %d, %a0, %a1;", "b64", "b64", 1, 63));
        assertEquals(-1L, one("shr.s64 %d, %a0, %a1;", "b64", "b64", Long.MIN_VALUE, 100));
    }

    @Test
    void wideAndMad() {
        long r = OpHarness.run("mul.wide.s32 %d, %a0, %a1;", "b64", new String[] {"b32", "b32"},
                new long[] {u32(-3)}, new long[] {u32(0x7FFFFFFF)})[0];
        assertEquals(-3L * 0x7FFFFFFFL, r);
        r = OpHarness.run("mul.wide.u32 %d, %a0, %a1;", "b64", new String[] {"b32", "b32"},
                new long[] {0xFFFFFFFFL}, new long[] {0xFFFFFFFFL})[0];
        assertEquals(0xFFFFFFFE00000001L, r);
        assertEquals(u32(7 * 6 + 5), one("mad.lo.s32 %d, %a0, %a1, %a2;", "b32", "b32", 7, 6, 5));
        // mad.hi.u32: high word of 0xFFFFFFFF * 0xFFFFFFFF (0xFFFFFFFE) + 3
        assertEquals(1L, one("mad.hi.u32 %d, %a0, %a1, %a2;", "b32", "b32", 0xFFFFFFFFL, 0xFFFFFFFFL, 3));
        r = OpHarness.run("mad.wide.s32 %d, %a0, %a1, %a2;", "b64", new String[] {"b32", "b32", "b64"},
                new long[] {u32(-2)}, new long[] {3}, new long[] {10})[0];
        assertEquals(4L, r);
        assertEquals(u32(-6), one("mul24.lo.s32 %d, %a0, %a1;", "b32", "b32", u32(-2), 3));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "popc.b32, 0xF0F0F0F1, 17",
        "clz.b32, 0x00010000, 15",
        "clz.b32, 0, 32",
        "brev.b32, 0x00000001, 0x80000000",
        "brev.b32, 0x12345678, 0x1E6A2C48",
        "bfind.u32, 0x00010000, 16",
        "bfind.u32, 0, 0xFFFFFFFF",
        "bfind.s32, 0xFFFFFFFF, 0xFFFFFFFF",
        "bfind.s32, 0xFFFF0000, 15",
        "bfind.shiftamt.u32, 0x00010000, 15",
        "not.b32, 0x0F0F0F0F, 0xF0F0F0F0",
        "cnot.b32, 0, 1",
        "cnot.b32, 5, 0",
        "neg.s32, 1, 0xFFFFFFFF",
        "abs.s32, 0x80000000, 0x80000000",
        "abs.s32, 0xFFFFFFF6, 10"})
    void unary32(String op, String a, String expected) {
        assertEquals(Long.decode(expected), one(op + " %d, %a0;", "b32", "b32", parse(a)));
    }

    @Test
    void bitFields() {
        // bfe.u32: 8 bits at 4 of 0xABCD1234 -> 0x23; bfe.s32 of a field with top bit set sign-extends
        assertEquals(0x23L, one("bfe.u32 %d, %a0, %a1, %a2;", "b32", "b32", 0xABCD1234L, 4, 8));
        assertEquals(0xFFFFFFABL, one("bfe.s32 %d, %a0, %a1, %a2;", "b32", "b32", 0xABCD1234L, 24, 8));
        assertEquals(0L, one("bfe.s32 %d, %a0, %a1, %a2;", "b32", "b32", 0xABCD1234L, 24, 0));
        // start beyond the msb: filled with the field's sign (bit 31 here)
        assertEquals(0xFFFFFFFFL, one("bfe.s32 %d, %a0, %a1, %a2;", "b32", "b32", 0x80000000L, 40, 4));
        assertEquals(0L, one("bfe.u32 %d, %a0, %a1, %a2;", "b32", "b32", 0xFFFFFFFFL, 40, 4));
        long r = OpHarness.run("bfi.b32 %d, %a0, %a1, %a2, 8;", "b32", new String[] {"b32", "b32", "b32"},
                new long[] {0xFFL}, new long[] {0x12345678L}, new long[] {4})[0];
        assertEquals(0x12345FF8L, r);
        // prmt: selector 0x3210 is identity on a; 0x7654 picks b; 0x8888 replicates the sign of byte 0 of a
        assertEquals(0x11223344L, one("prmt.b32 %d, %a0, %a1, %a2;", "b32", "b32", 0x11223344L, 0x55667788L, 0x3210));
        assertEquals(0x55667788L, one("prmt.b32 %d, %a0, %a1, %a2;", "b32", "b32", 0x11223344L, 0x55667788L, 0x7654));
        assertEquals(0xFFFFFFFFL, one("prmt.b32 %d, %a0, %a1, %a2;", "b32", "b32", 0x80L, 0, 0x8888));
        // lop3 0x96 is a ^ b ^ c
        assertEquals(0x6L, OpHarness.run("lop3.b32 %d, %a0, %a1, %a2, 0x96;", "b32",
                new String[] {"b32", "b32", "b32"}, new long[] {0xC}, new long[] {0xA}, new long[] {0x0})[0]);
    }

    @Test
    void conversionsBetweenIntegers() {
        assertEquals(-5L, OpHarness.run("cvt.s64.s32 %d, %a0;", "b64", new String[] {"b32"}, new long[] {u32(-5)})[0]);
        assertEquals(0xFFFFFFFBL, OpHarness.run("cvt.u64.u32 %d, %a0;", "b64", new String[] {"b32"},
                new long[] {u32(-5)})[0]);
        assertEquals(0x89ABCDEFL, OpHarness.run("cvt.u32.u64 %d, %a0;", "b32", new String[] {"b64"},
                new long[] {0x0123456789ABCDEFL})[0]);
        assertEquals(0x7FFFFFFFL, OpHarness.run("cvt.sat.s32.s64 %d, %a0;", "b32", new String[] {"b64"},
                new long[] {1L << 40})[0]);
        assertEquals(0xFFFFFF80L, OpHarness.run("cvt.s32.s8 %d, %a0;", "b32", new String[] {"b32"},
                new long[] {0x180})[0]);
        assertEquals(0L, OpHarness.run("cvt.sat.u32.s32 %d, %a0;", "b32", new String[] {"b32"}, new long[] {u32(-9)})[0]);
    }

    /**
     * setp on integers, every relation and width, over 40 lanes (one full warp, whose compares
     * take the emulator's full-warp path, and a partial one) of edge values and equal pairs.
     */
    @ParameterizedTest
    @ValueSource(strings = {"s32", "u32", "b32", "s64", "u64"})
    void setpEveryRelationOnFullAndPartialWarps(String type) {
        long[] edges = {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x80000000L, 0xFFFFFFFFL, Long.MIN_VALUE,
            Long.MAX_VALUE, 7, -7, 1L << 40};
        int n = 40;
        long[] a = new long[n];
        long[] b = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = edges[i % edges.length];
            b[i] = i % 3 == 0 ? a[i] : edges[(i * 5 + 1) % edges.length];
        }
        boolean wide = type.endsWith("64");
        boolean signed = type.startsWith("s");
        String[] relations = type.startsWith("b") ? new String[] {"eq", "ne"}
                : new String[] {"eq", "ne", "lt", "le", "gt", "ge"};
        for (String rel : relations) {
            long[] got = OpHarness.run("setp." + rel + "." + type + " %d, %a0, %a1;", "pred",
                    new String[] {type, type}, a, b);
            for (int i = 0; i < n; i++) {
                long x = wide ? a[i] : signed ? (int) a[i] : a[i] & 0xFFFFFFFFL;
                long y = wide ? b[i] : signed ? (int) b[i] : b[i] & 0xFFFFFFFFL;
                int c = signed || !wide ? Long.compare(x, y) : Long.compareUnsigned(x, y);
                boolean expect = switch (rel) {
                    case "eq" -> c == 0;
                    case "ne" -> c != 0;
                    case "lt" -> c < 0;
                    case "le" -> c <= 0;
                    case "gt" -> c > 0;
                    default -> c >= 0;
                };
                assertEquals(expect ? 1 : 0, got[i], String.format("setp.%s.%s lane %d: %d vs %d", rel, type, i,
                        x, y));
            }
        }
    }
}
