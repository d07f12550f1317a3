package io.jnorm.gpu.emu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Random;

import static io.jnorm.gpu.emu.OpHarness.d;
import static io.jnorm.gpu.emu.OpHarness.f;
import static io.jnorm.gpu.emu.OpHarness.one;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Float instructions: rounding modes against hand-derived bit patterns and a BigDecimal oracle,
 * .ftz/.sat, special values, conversions, and the approximate functions within their bounds.
 */
class FloatInstructionTest {

    private static long f32(String op, float... xs) {
        long[] bits = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            bits[i] = f(xs[i]);
        }
        String ops = xs.length == 1 ? "%a0" : xs.length == 2 ? "%a0, %a1" : "%a0, %a1, %a2";
        return one(op + " %d, " + ops + ";", "f32", "f32", bits);
    }

    private static long f64(String op, double... xs) {
        long[] bits = new long[xs.length];
        for (int i = 0; i < xs.length; i++) {
            bits[i] = d(xs[i]);
        }
        String ops = xs.length == 1 ? "%a0" : xs.length == 2 ? "%a0, %a1" : "%a0, %a1, %a2";
        return one(op + " %d, " + ops + ";", "f64", "f64", bits);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        // 1 + 2^-30: between 1 (0x3F800000) and its successor 0x3F800001
        "add.rn.f32, 1, 0x1p-30, 0x3F800000",
        "add.rz.f32, 1, 0x1p-30, 0x3F800000",
        "add.rm.f32, 1, 0x1p-30, 0x3F800000",
        "add.rp.f32, 1, 0x1p-30, 0x3F800001",
        "add.rz.f32, -1, -0x1p-30, 0xBF800000",
        "add.rm.f32, -1, -0x1p-30, 0xBF800001",
        "add.rp.f32, -1, -0x1p-30, 0xBF800000",
        // exact zero sums: -0 only when rounding down
        "add.rn.f32, 1, -1, 0x00000000",
        "add.rm.f32, 1, -1, 0x80000000",
        // (1 + 2^-23)^2 = 1 + 2^-22 + 2^-46
        "mul.rn.f32, 0x1.000002p0, 0x1.000002p0, 0x3F800002",
        "mul.rz.f32, 0x1.000002p0, 0x1.000002p0, 0x3F800002",
        "mul.rp.f32, 0x1.000002p0, 0x1.000002p0, 0x3F800003",
        // overflow: RN and away-from-zero directions give Inf, the others the largest finite value
        "add.rn.f32, 0x1.fffffep127, 0x1.fffffep127, 0x7F800000",
        "add.rz.f32, 0x1.fffffep127, 0x1.fffffep127, 0x7F7FFFFF",
        "mul.rm.f32, -0x1.fffffep127, 2, 0xFF800000",
        "mul.rz.f32, -0x1.fffffep127, 2, 0xFF7FFFFF",
        "mul.rp.f32, -0x1.fffffep127, 2, 0xFF7FFFFF",
        // 1/3 = 0x3EAAAAAA.AAA..: RN rounds up
        "div.rn.f32, 1, 3, 0x3EAAAAAB",
        "div.rz.f32, 1, 3, 0x3EAAAAAA",
        "div.rm.f32, 1, 3, 0x3EAAAAAA",
        "div.rp.f32, 1, 3, 0x3EAAAAAB",
        "div.rz.f32, -1, 3, 0xBEAAAAAA",
        "div.rm.f32, -1, 3, 0xBEAAAAAB",
        // ftz flushes subnormal inputs and results, keeping the sign
        "add.ftz.f32, 0x1p-130, 0, 0x00000000",
        "add.f32, 0x1p-130, 0, 0x00080000",
        "mul.ftz.f32, 0x1p-70, -0x1p-70, 0x80000000",
        "mul.f32, 0x1p-70, 0x1p-70, 0x00000200",
        // sat clamps to [0, 1]
        "add.sat.f32, 0.75, 0.5, 0x3F800000",
        "mul.sat.f32, -2, 1, 0x00000000",
        // min/max: one NaN yields the other operand, -0 is below +0
        "min.f32, NaN, 1, 0x3F800000",
        "max.f32, 2, NaN, 0x40000000",
        "min.f32, NaN, NaN, 0x7FFFFFFF",
        "min.f32, -0.0, 0.0, 0x80000000",
        "max.f32, -0.0, 0.0, 0x00000000",
        "copysign.f32, -1, 2, 0xC0000000"})
    void f32Binary(String op, String a, String b, String expected) {
        assertEquals(Long.decode(expected), f32(op, Float.parseFloat(a), Float.parseFloat(b)));
    }

    @Test
    void f32FusedAndRoots() {
        assertEquals(0x3F800000L, f32("fma.rm.f32", 1, 1, 0x1p-30f));
        assertEquals(0x3F800001L, f32("fma.rp.f32", 1, 1, 0x1p-30f));
        assertEquals(0x80000000L, f32("fma.rm.f32", 1, 1, -1));
        // sqrt(2) = 1.41421356...: RN gives 0x3FB504F3 (below), RP the next float
        assertEquals(0x3FB504F3L, f32("sqrt.rn.f32", 2));
        assertEquals(0x3FB504F3L, f32("sqrt.rz.f32", 2));
        assertEquals(0x3FB504F4L, f32("sqrt.rp.f32", 2));
        assertEquals(0x3EAAAAAAL, f32("rcp.rz.f32", 3));
        assertEquals(0x3EAAAAABL, f32("rcp.rn.f32", 3));
    }

    @Test
    void f64DirectedRounding() {
        assertEquals(0x3FF0000000000001L, f64("add.rp.f64", 1, 0x1p-60));
        assertEquals(0x3FF0000000000000L, f64("add.rz.f64", 1, 0x1p-60));
        assertEquals(0x3FF0000000000002L, f64("mul.rn.f64", 1 + 0x1p-52, 1 + 0x1p-52));
        assertEquals(0x3FF0000000000003L, f64("mul.rp.f64", 1 + 0x1p-52, 1 + 0x1p-52));
        // (1+2^-52)^2 - 1 = 2^-51 (1 + 2^-53): a tie between 2^-51 and its successor
        assertEquals(0x3CC0000000000000L, f64("fma.rn.f64", 1 + 0x1p-52, 1 + 0x1p-52, -1));
        assertEquals(0x3CC0000000000001L, f64("fma.rp.f64", 1 + 0x1p-52, 1 + 0x1p-52, -1));
        assertEquals(0x3CC0000000000000L, f64("fma.rz.f64", 1 + 0x1p-52, 1 + 0x1p-52, -1));
        assertEquals(0x3FD5555555555555L, f64("div.rn.f64", 1, 3));
        assertEquals(0x3FD5555555555555L, f64("div.rz.f64", 1, 3));
        assertEquals(0x3FD5555555555556L, f64("div.rp.f64", 1, 3));
        assertEquals(0x3FF6A09E667F3BCDL, f64("sqrt.rn.f64", 2));
        assertEquals(0x3FF6A09E667F3BCCL, f64("sqrt.rm.f64", 2));
        assertEquals(0x8000000000000000L, f64("add.rm.f64", 2, -2));
        assertEquals(Double.doubleToRawLongBits(Double.MAX_VALUE), f64("mul.rz.f64", Double.MAX_VALUE, 3));
    }

    /** Directed rounding of random and adversarial f32 operations against an exact BigDecimal oracle. */
    @Test
    void directedRoundingMatchesAnExactOracle() {
        Random r = new Random(11);
        String[] modes = {"rn", "rz", "rm", "rp"};
        RoundingMode[] rm = {RoundingMode.HALF_EVEN, RoundingMode.DOWN, RoundingMode.FLOOR, RoundingMode.CEILING};
        int n = 64;
        long[] a = new long[n];
        long[] b = new long[n];
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            float x = (float) (r.nextGaussian() * Math.pow(2, r.nextInt(40) - 20));
            float y = i % 4 == 0 ? Math.nextUp(-x) : (float) (r.nextGaussian() * Math.pow(2, r.nextInt(40) - 20));
            float z = (float) r.nextGaussian();
            a[i] = f(x);
            b[i] = f(y);
            c[i] = f(z);
        }
        for (int mi = 0; mi < 4; mi++) {
            String[] t3 = {"f32", "f32", "f32"};
            long[] add = OpHarness.run("add." + modes[mi] + ".f32 %d, %a0, %a1;", "f32", new String[] {"f32", "f32"}, a, b);
            long[] mul = OpHarness.run("mul." + modes[mi] + ".f32 %d, %a0, %a1;", "f32", new String[] {"f32", "f32"}, a, b);
            long[] fma = OpHarness.run("fma." + modes[mi] + ".f32 %d, %a0, %a1, %a2;", "f32", t3, a, b, c);
            long[] div = OpHarness.run("div." + modes[mi] + ".f32 %d, %a0, %a1;", "f32", new String[] {"f32", "f32"}, a, b);
            for (int i = 0; i < n; i++) {
                BigDecimal x = new BigDecimal(Fp.f(a[i]));
                BigDecimal y = new BigDecimal(Fp.f(b[i]));
                BigDecimal z = new BigDecimal(Fp.f(c[i]));
                assertEquals(oracle(x.add(y), rm[mi]), Fp.f(add[i]), "add " + modes[mi] + " " + i);
                assertEquals(oracle(x.multiply(y), rm[mi]), Fp.f(mul[i]), "mul " + modes[mi] + " " + i);
                assertEquals(oracle(x.multiply(y).add(z), rm[mi]), Fp.f(fma[i]), "fma " + modes[mi] + " " + i);
                BigDecimal q = x.divide(y, new MathContext(60, RoundingMode.DOWN));
                assertEquals(oracle(q, rm[mi]), Fp.f(div[i]), "div " + modes[mi] + " " + i);
            }
        }
    }

    /** Rounds an exact value to float with a BigDecimal mode (normal range only, as generated). */
    private static float oracle(BigDecimal v, RoundingMode mode) {
        if (v.signum() == 0) {
            return 0f;
        }
        float approx = v.floatValue();
        int exp = Math.getExponent(approx);
        BigDecimal ulp = new BigDecimal(Math.ulp(approx));
        if (Math.getExponent(Math.nextDown(Math.abs(approx))) < exp && v.abs().compareTo(new BigDecimal(Math.abs(approx))) < 0) {
            ulp = new BigDecimal(Math.ulp(Math.nextDown(Math.abs(approx))));
        }
        BigDecimal units = v.divide(ulp).setScale(0, mode);
        return units.multiply(ulp).floatValue();
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "cvt.rzi.s32.f32, NaN, 0",
        "cvt.rzi.s32.f32, 3e9, 0x7FFFFFFF",
        "cvt.rzi.s32.f32, -3e9, 0x80000000",
        "cvt.rni.s32.f32, 2.5, 2",
        "cvt.rni.s32.f32, 3.5, 4",
        "cvt.rni.s32.f32, -2.5, 0xFFFFFFFE",
        "cvt.rmi.s32.f32, -2.5, 0xFFFFFFFD",
        "cvt.rpi.s32.f32, 2.1, 3",
        "cvt.rzi.u32.f32, -1, 0",
        "cvt.rzi.u32.f32, 5e9, 0xFFFFFFFF",
        "cvt.rzi.u32.f32, NaN, 0"})
    void floatToInt32(String op, String x, String expected) {
        assertEquals(Long.decode(expected), OpHarness.run(op + " %d, %a0;", "b32", new String[] {"f32"},
                new long[] {f(Float.parseFloat(x))})[0]);
    }

    @Test
    void otherConversions() {
        String[] f64 = {"f64"};
        assertEquals(Long.parseUnsignedLong("18000000000000000000"), OpHarness.run("cvt.rzi.u64.f64 %d, %a0;", "b64",
                f64, new long[] {d(1.8e19)})[0]);
        assertEquals(-1L, OpHarness.run("cvt.rzi.u64.f64 %d, %a0;", "b64", f64, new long[] {d(1e30)})[0]);
        assertEquals(0L, OpHarness.run("cvt.rzi.u64.f64 %d, %a0;", "b64", f64, new long[] {d(-5)})[0]);
        assertEquals(0L, OpHarness.run("cvt.rzi.s64.f64 %d, %a0;", "b64", f64, new long[] {d(Double.NaN)})[0]);
        // f64 -> f32: 1 + 2^-24 is a tie (to even: 1); 1 + 2^-24 + 2^-52 is above it
        assertEquals(0x3F800000L, OpHarness.run("cvt.rn.f32.f64 %d, %a0;", "f32", f64, new long[] {0x3FF0000010000000L})[0]);
        assertEquals(0x3F800001L, OpHarness.run("cvt.rp.f32.f64 %d, %a0;", "f32", f64, new long[] {0x3FF0000010000000L})[0]);
        assertEquals(0x3F800001L, OpHarness.run("cvt.rn.f32.f64 %d, %a0;", "f32", f64, new long[] {0x3FF0000010000001L})[0]);
        assertEquals(0x3F800000L, OpHarness.run("cvt.rz.f32.f64 %d, %a0;", "f32", f64, new long[] {0x3FF0000010000001L})[0]);
        String[] u64 = {"u64"};
        assertEquals(0x5F800000L, OpHarness.run("cvt.rn.f32.u64 %d, %a0;", "f32", u64, new long[] {-1L})[0]);
        assertEquals(0x5F7FFFFFL, OpHarness.run("cvt.rz.f32.u64 %d, %a0;", "f32", u64, new long[] {-1L})[0]);
        assertEquals(0x43E0000000000000L, OpHarness.run("cvt.rn.f64.u64 %d, %a0;", "f64", u64,
                new long[] {Long.MIN_VALUE + 1})[0]);
        String[] s32 = {"s32"};
        assertEquals(0x4B800000L, OpHarness.run("cvt.rn.f32.s32 %d, %a0;", "f32", s32, new long[] {16777217})[0]);
        assertEquals(0x4B800001L, OpHarness.run("cvt.rp.f32.s32 %d, %a0;", "f32", s32, new long[] {16777217})[0]);
        String[] f32 = {"f32"};
        assertEquals(0x3F800000L, OpHarness.run("cvt.sat.f32.f32 %d, %a0;", "f32", f32, new long[] {f(1.5f)})[0]);
        assertEquals(0L, OpHarness.run("cvt.sat.f32.f32 %d, %a0;", "f32", f32, new long[] {f(Float.NaN)})[0]);
        assertEquals(f(-3f), OpHarness.run("cvt.rmi.f32.f32 %d, %a0;", "f32", f32, new long[] {f(-2.5f)})[0]);
        assertEquals(0L, OpHarness.run("cvt.ftz.f64.f32 %d, %a0;", "f64", f32, new long[] {f(0x1p-140f)})[0]);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({
        "setp.lt.f32, NaN, 1, 0",
        "setp.ltu.f32, NaN, 1, 1",
        "setp.ne.f32, NaN, NaN, 0",
        "setp.neu.f32, NaN, NaN, 1",
        "setp.num.f32, NaN, 1, 0",
        "setp.nan.f32, 1, NaN, 1",
        "setp.eq.f32, -0.0, 0.0, 1",
        "setp.geu.f32, 1, 2, 0"})
    void comparisons(String op, String a, String b, int expected) {
        assertEquals(expected, one(op + " %d, %a0, %a1;", "pred", "f32", f(Float.parseFloat(a)),
                f(Float.parseFloat(b))));
    }

    @Test
    void classification() {
        assertEquals(1, one("testp.subnormal.f32 %d, %a0;", "pred", "f32", 1));
        assertEquals(0, one("testp.normal.f32 %d, %a0;", "pred", "f32", 1));
        assertEquals(1, one("testp.infinite.f32 %d, %a0;", "pred", "f32", f(Float.NEGATIVE_INFINITY)));
        assertEquals(1, one("testp.notanumber.f64 %d, %a0;", "pred", "f64", d(Double.NaN)));
    }

    /** Approximate instructions within the PTX ISA's documented bounds, and their special values. */
    @Test
    void approximateFunctions() {
        assertTrue(relErr(f32("rsqrt.approx.f32", 4f), 0.5) < 0x1p-22);
        assertTrue(Float.isNaN(Fp.f(f32("rsqrt.approx.f32", -1f))));
        assertEquals(0x7F800000L, f32("rsqrt.approx.f32", 0f));
        assertEquals(0xFF800000L, f32("rsqrt.approx.f32", -0f));
        assertEquals(0L, f32("ex2.approx.f32", Float.NEGATIVE_INFINITY));
        assertTrue(relErr(f32("ex2.approx.ftz.f32", 10f), 1024) < 0x1p-22);
        assertEquals(0xFF800000L, f32("lg2.approx.f32", 0f));
        assertTrue(Math.abs(Fp.f(f32("lg2.approx.f32", 8f)) - 3) < 0x1p-22);
        assertTrue(Math.abs(Fp.f(f32("sin.approx.f32", 0.5f)) - Math.sin(0.5)) < Math.pow(2, -20.9));
        assertTrue(Math.abs(Fp.f(f32("cos.approx.f32", 2f)) - Math.cos(2)) < Math.pow(2, -20.9));
        assertTrue(relErr(f32("div.full.f32", 1f, 3f), 1.0 / 3) < 0x1p-22);
        assertTrue(relErr(f32("rcp.approx.ftz.f32", 3f), 1.0 / 3) < 0x1p-22);
        assertTrue(Math.abs(Fp.d(f64("rsqrt.approx.f64", 2)) - 1 / Math.sqrt(2)) < 1e-15);
        assertTrue(Math.abs(Fp.f(f32("tanh.approx.f32", 0.5f)) - Math.tanh(0.5)) < 0x1p-10);
    }

    private static double relErr(long bits, double exact) {
        return Math.abs(Fp.f(bits) - exact) / Math.abs(exact);
    }
}
