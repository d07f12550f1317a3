package io.jnorm.gpu.emu;

/**
 * The hot float instructions without rounding, ftz or sat modifiers (round to nearest even is
 * Java's own arithmetic), over the active lanes of a warp, with a counted loop for full groups.
 * Instructions with modifiers go through {@link FloatUnit}.
 */
final class FloatLaneOps {
    private FloatLaneOps() {
    }

    static void addF32(long[] r, int d, int a, int b, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Fp.f(r[a + l]) + Fp.f(r[b + l]));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Fp.f(r[a + l]) + Fp.f(r[b + l]));
        }
    }

    static void subF32(long[] r, int d, int a, int b, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Fp.f(r[a + l]) - Fp.f(r[b + l]));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Fp.f(r[a + l]) - Fp.f(r[b + l]));
        }
    }

    static void mulF32(long[] r, int d, int a, int b, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Fp.f(r[a + l]) * Fp.f(r[b + l]));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Fp.f(r[a + l]) * Fp.f(r[b + l]));
        }
    }

    static void addF64(long[] r, int d, int a, int b, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Fp.d(r[a + l]) + Fp.d(r[b + l]));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Fp.d(r[a + l]) + Fp.d(r[b + l]));
        }
    }

    static void subF64(long[] r, int d, int a, int b, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Fp.d(r[a + l]) - Fp.d(r[b + l]));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Fp.d(r[a + l]) - Fp.d(r[b + l]));
        }
    }

    static void mulF64(long[] r, int d, int a, int b, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Fp.d(r[a + l]) * Fp.d(r[b + l]));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Fp.d(r[a + l]) * Fp.d(r[b + l]));
        }
    }

    static void fmaF32(long[] r, int d, int a, int b, int c, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Math.fma(Fp.f(r[a + l]), Fp.f(r[b + l]), Fp.f(r[c + l])));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Math.fma(Fp.f(r[a + l]), Fp.f(r[b + l]), Fp.f(r[c + l])));
        }
    }

    static void fmaF64(long[] r, int d, int a, int b, int c, int act) {
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = Fp.bits(Math.fma(Fp.d(r[a + l]), Fp.d(r[b + l]), Fp.d(r[c + l])));
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = Fp.bits(Math.fma(Fp.d(r[a + l]), Fp.d(r[b + l]), Fp.d(r[c + l])));
        }
    }

    /** Lanes where the f32 comparison has an outcome in {@code mask} (1 less, 2 equal, 4 greater, 8 unordered). */
    static int setpF32(long[] r, int a, int b, int mask, boolean ftz, int act) {
        int res = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            float x = Fp.f(r[a + l]);
            float y = Fp.f(r[b + l]);
            if (ftz) {
                x = Fp.ftz(x);
                y = Fp.ftz(y);
            }
            int outcome = x < y ? 1 : x == y ? 2 : x > y ? 4 : 8;
            res |= (mask & outcome) != 0 ? 1 << l : 0;
        }
        return res;
    }

    /** Lanes where the f64 comparison has an outcome in {@code mask}. */
    static int setpF64(long[] r, int a, int b, int mask, int act) {
        int res = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            double x = Fp.d(r[a + l]);
            double y = Fp.d(r[b + l]);
            int outcome = x < y ? 1 : x == y ? 2 : x > y ? 4 : 8;
            res |= (mask & outcome) != 0 ? 1 << l : 0;
        }
        return res;
    }
}
