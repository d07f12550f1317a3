package io.jnorm.gpu.emu;

import java.math.BigDecimal;

/**
 * Floating-point semantics Java lacks: PTX's directed rounding modes, flush-to-zero and
 * saturation. Java arithmetic is IEEE round-to-nearest-even, so every directed result starts
 * from the correctly rounded RN result and moves it one ulp when the exact value lies on the
 * other side. The side is the sign of (exact - rn), computed with an error-free transformation
 * (TwoSum, an exact double product, or an fma residual, whose rounding preserves the sign) and
 * with BigDecimal only where a residual could underflow.
 */
final class Fp {
    private Fp() {
    }

    static final int RN = 0, RZ = 1, RM = 2, RP = 3;

    static final int CANONICAL_NAN_F32 = 0x7FFFFFFF;
    static final long CANONICAL_NAN_F64 = 0x7FFFFFFFFFFFFFFFL;

    static float ftz(float x) {
        return Math.abs(x) < Float.MIN_NORMAL ? Math.copySign(0f, x) : x;
    }

    static float sat(float x) {
        return x > 0f ? (x < 1f ? x : 1f) : 0f;
    }

    static double sat(double x) {
        return x > 0d ? (x < 1d ? x : 1d) : 0d;
    }

    static float f(long bits) {
        return Float.intBitsToFloat((int) bits);
    }

    static double d(long bits) {
        return Double.longBitsToDouble(bits);
    }

    static long bits(float x) {
        return Float.floatToRawIntBits(x) & 0xFFFFFFFFL;
    }

    static long bits(double x) {
        return Double.doubleToRawLongBits(x);
    }

    /** Moves a round-to-nearest result to the mode's side; sgn is the sign of (exact - rn). */
    static float round(float rn, int sgn, int mode) {
        if (sgn == 0 || mode == RN || Float.isNaN(rn)) {
            return rn;
        }
        switch (mode) {
            case RM:
                return sgn < 0 ? Math.nextDown(rn) : rn;
            case RP:
                return sgn > 0 ? Math.nextUp(rn) : rn;
            default:
                if (rn > 0 && sgn < 0) {
                    return Math.nextDown(rn);
                }
                return rn < 0 && sgn > 0 ? Math.nextUp(rn) : rn;
        }
    }

    static double round(double rn, int sgn, int mode) {
        if (sgn == 0 || mode == RN || Double.isNaN(rn)) {
            return rn;
        }
        switch (mode) {
            case RM:
                return sgn < 0 ? Math.nextDown(rn) : rn;
            case RP:
                return sgn > 0 ? Math.nextUp(rn) : rn;
            default:
                if (rn > 0 && sgn < 0) {
                    return Math.nextDown(rn);
                }
                return rn < 0 && sgn > 0 ? Math.nextUp(rn) : rn;
        }
    }

    /** sign(hi + lo - r) where hi + lo is exact and |lo| is below half an ulp of hi. */
    private static int side(double hi, double lo, double r) {
        if (Double.isInfinite(r) && !Double.isInfinite(hi)) {
            return r > 0 ? -1 : 1;
        }
        double diff = hi - r;
        if (diff != 0) {
            return diff > 0 ? 1 : -1;
        }
        return lo > 0 ? 1 : lo < 0 ? -1 : 0;
    }

    private static double twoSumErr(double a, double b, double s) {
        double bb = s - a;
        return (a - (s - bb)) + (b - bb);
    }

    /** An exact zero sum is -0 in RM (unless both addends are +0), +0 otherwise (unless both are -0). */
    private static float zeroSign(float r, float a, float b, int mode) {
        if (r == 0f && mode == RM) {
            return -((-a) + (-b));
        }
        return r;
    }

    static float add(float a, float b, int mode) {
        float r = a + b;
        if (mode == RN || !Float.isFinite(a) || !Float.isFinite(b)) {
            return r;
        }
        double s = (double) a + (double) b;
        float out = round(r, side(s, twoSumErr(a, b, s), r), mode);
        return zeroSign(out, a, b, mode);
    }

    static float mul(float a, float b, int mode) {
        float r = a * b;
        if (mode == RN || !Float.isFinite(a) || !Float.isFinite(b)) {
            return r;
        }
        return round(r, side((double) a * (double) b, 0, r), mode);
    }

    static float fma(float a, float b, float c, int mode) {
        float r = Math.fma(a, b, c);
        if (mode == RN || !Float.isFinite(a) || !Float.isFinite(b) || !Float.isFinite(c)) {
            return r;
        }
        double p = (double) a * (double) b;
        double s = p + c;
        float out = round(r, side(s, twoSumErr(p, c, s), r), mode);
        if (out == 0f && mode == RM && s == 0 && twoSumErr(p, c, s) == 0) {
            return -Math.fma(-a, b, -c);
        }
        return out;
    }

    static float div(float a, float b, int mode) {
        float r = a / b;
        if (mode == RN || Float.isNaN(r) || !Float.isFinite(a) || !Float.isFinite(b) || b == 0f) {
            return r;
        }
        if (Float.isInfinite(r)) {
            return round(r, r > 0 ? -1 : 1, mode);
        }
        double res = Math.fma(-(double) r, (double) b, (double) a);
        int sgn = (int) Math.signum(res) * (b > 0 ? 1 : -1);
        return round(r, sgn, mode);
    }

    static float sqrt(float a, int mode) {
        float r = (float) Math.sqrt(a);
        if (mode == RN || !Float.isFinite(r) || r == 0f) {
            return r;
        }
        return round(r, (int) Math.signum(Math.fma(-(double) r, (double) r, (double) a)), mode);
    }

    static double add(double a, double b, int mode) {
        double r = a + b;
        if (mode == RN || !Double.isFinite(a) || !Double.isFinite(b)) {
            return r;
        }
        double out = round(r, side(r, twoSumErr(a, b, r), r), mode);
        if (out == 0d && mode == RM) {
            return -((-a) + (-b));
        }
        return out;
    }

    static double mul(double a, double b, int mode) {
        double r = a * b;
        if (mode == RN || !Double.isFinite(a) || !Double.isFinite(b)) {
            return r;
        }
        if (Double.isInfinite(r)) {
            return round(r, r > 0 ? -1 : 1, mode);
        }
        if (Math.abs(r) < 0x1p-960) {
            return round(r, exactSide(new BigDecimal(a).multiply(new BigDecimal(b)), r), mode);
        }
        return round(r, (int) Math.signum(Math.fma(a, b, -r)), mode);
    }

    static double fma(double a, double b, double c, int mode) {
        double r = Math.fma(a, b, c);
        if (mode == RN || !Double.isFinite(a) || !Double.isFinite(b) || !Double.isFinite(c)) {
            return r;
        }
        BigDecimal exact = new BigDecimal(a).multiply(new BigDecimal(b)).add(new BigDecimal(c));
        if (exact.signum() == 0) {
            return mode == RM ? -Math.fma(-a, b, -c) : r;
        }
        if (Double.isInfinite(r)) {
            return round(r, r > 0 ? -1 : 1, mode);
        }
        return round(r, exactSide(exact, r), mode);
    }

    static double div(double a, double b, int mode) {
        double r = a / b;
        if (mode == RN || Double.isNaN(r) || !Double.isFinite(a) || !Double.isFinite(b) || b == 0d) {
            return r;
        }
        if (Double.isInfinite(r)) {
            return round(r, r > 0 ? -1 : 1, mode);
        }
        if (Math.abs(r) < 0x1p-960 || Math.abs(a) > 0x1p1000) {
            // the residual could underflow (or its product overflow): decide exactly
            BigDecimal exactTimesB = new BigDecimal(a);
            BigDecimal rb = new BigDecimal(r).multiply(new BigDecimal(b));
            int sgn = exactTimesB.compareTo(rb) * (b > 0 ? 1 : -1);
            return round(r, sgn, mode);
        }
        int sgn = (int) Math.signum(Math.fma(-r, b, a)) * (b > 0 ? 1 : -1);
        return round(r, sgn, mode);
    }

    static double sqrt(double a, int mode) {
        double r = Math.sqrt(a);
        if (mode == RN || !Double.isFinite(r) || r == 0d) {
            return r;
        }
        if (r < 0x1p-480) {
            return round(r, new BigDecimal(a).compareTo(new BigDecimal(r).multiply(new BigDecimal(r))), mode);
        }
        return round(r, (int) Math.signum(Math.fma(-r, r, a)), mode);
    }

    private static int exactSide(BigDecimal exact, double r) {
        return exact.compareTo(new BigDecimal(r));
    }

    /** f64 to f32 in the given mode. */
    static float toF32(double x, int mode) {
        float r = (float) x;
        if (mode == RN || !Double.isFinite(x)) {
            return r;
        }
        if (Float.isInfinite(r)) {
            return round(r, r > 0 ? -1 : 1, mode);
        }
        double diff = x - (double) r;
        return round(r, diff > 0 ? 1 : diff < 0 ? -1 : 0, mode);
    }

    /** PTX min: a NaN operand yields the other operand, two NaNs the canonical NaN; -0 < +0. */
    static long min32(long a, long b) {
        float x = f(a);
        float y = f(b);
        if (Float.isNaN(x)) {
            return Float.isNaN(y) ? CANONICAL_NAN_F32 : b & 0xFFFFFFFFL;
        }
        return Float.isNaN(y) ? a & 0xFFFFFFFFL : bits(Math.min(x, y));
    }

    static long max32(long a, long b) {
        float x = f(a);
        float y = f(b);
        if (Float.isNaN(x)) {
            return Float.isNaN(y) ? CANONICAL_NAN_F32 : b & 0xFFFFFFFFL;
        }
        return Float.isNaN(y) ? a & 0xFFFFFFFFL : bits(Math.max(x, y));
    }

    static long min64(long a, long b) {
        double x = d(a);
        double y = d(b);
        if (Double.isNaN(x)) {
            return Double.isNaN(y) ? CANONICAL_NAN_F64 : b;
        }
        return Double.isNaN(y) ? a : bits(Math.min(x, y));
    }

    static long max64(long a, long b) {
        double x = d(a);
        double y = d(b);
        if (Double.isNaN(x)) {
            return Double.isNaN(y) ? CANONICAL_NAN_F64 : b;
        }
        return Double.isNaN(y) ? a : bits(Math.max(x, y));
    }
}
