package io.jnorm.gpu.emu;

/**
 * The hot integer, predicate and data-movement instructions over the active lanes of a warp.
 * Each has a loop over all 32 lanes for a full group (the common case: no mask test per lane,
 * and a counted loop C2 unrolls) and a loop over the set bits of the mask otherwise.
 * Registers are planes of 32 lanes: a lane's value is {@code r[plane + lane]}.
 */
final class LaneOps {
    private LaneOps() {
    }

    static final int FULL = -1;

    static void mov(long[] r, int d, int a, int act) {
        if (act == FULL) {
            System.arraycopy(r, a, r, d, 32);
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l];
        }
    }

    static void add(long[] r, int d, int a, int b, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] + r[b + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] + r[b + l];
        }
    }

    static void sub(long[] r, int d, int a, int b, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] - r[b + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] - r[b + l];
        }
    }

    static void mulLo(long[] r, int d, int a, int b, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] * r[b + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] * r[b + l];
        }
    }

    static void madLo(long[] r, int d, int a, int b, int c, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] * r[b + l] + r[c + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] * r[b + l] + r[c + l];
        }
    }

    static void and(long[] r, int d, int a, int b, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] & r[b + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] & r[b + l];
        }
    }

    static void or(long[] r, int d, int a, int b, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] | r[b + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] | r[b + l];
        }
    }

    static void xor(long[] r, int d, int a, int b, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = r[a + l] ^ r[b + l];
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = r[a + l] ^ r[b + l];
        }
    }

    static void not(long[] r, int d, int a, int act) {
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = ~r[a + l];
        }
    }

    static void neg(long[] r, int d, int a, int act) {
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = -r[a + l];
        }
    }

    static void shl(long[] r, int d, int a, int b, int bits, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = IntOps.shl(r[a + l], r[b + l], bits);
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = IntOps.shl(r[a + l], r[b + l], bits);
        }
    }

    static void shr(long[] r, int d, int a, int b, int t, int act) {
        if (act == FULL) {
            for (int l = 0; l < 32; l++) {
                r[d + l] = IntOps.shr(r[a + l], r[b + l], t);
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = IntOps.shr(r[a + l], r[b + l], t);
        }
    }

    static void mulWide(long[] r, int d, int a, int b, int t, int act) {
        if (t == Types.S32) {
            if (act == FULL) {
                for (int l = 0; l < 32; l++) {
                    r[d + l] = (long) (int) r[a + l] * (int) r[b + l];
                }
                return;
            }
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                r[d + l] = (long) (int) r[a + l] * (int) r[b + l];
            }
        } else if (t == Types.U32) {
            if (act == FULL) {
                for (int l = 0; l < 32; l++) {
                    r[d + l] = (r[a + l] & 0xFFFFFFFFL) * (r[b + l] & 0xFFFFFFFFL);
                }
                return;
            }
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                r[d + l] = (r[a + l] & 0xFFFFFFFFL) * (r[b + l] & 0xFFFFFFFFL);
            }
        } else {
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                r[d + l] = IntOps.mulWide(r[a + l], r[b + l], t);
            }
        }
    }

    static void cvta(long[] r, int d, int a, long off, long mask, int act) {
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = (r[a + l] + off) & mask;
        }
    }

    static void selp(long[] r, int d, int a, int b, int pm, int act) {
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = ((pm >>> l) & 1) != 0 ? r[a + l] : r[b + l];
        }
    }

    /**
     * The lanes of {@code act} where the integer comparison of type {@code t} has an outcome in
     * {@code mask} (1 less, 2 equal, 4 greater). The common 32-bit types have their own small
     * methods, which the JIT inlines into the interpreter loop.
     */
    static int setpInt(long[] r, int a, int b, int t, int mask, int act) {
        if (t == Types.S32) {
            return act == FULL ? setpS32Full(r, a, b, mask) : setpS32(r, a, b, mask, act);
        }
        if (t == Types.U32 || t == Types.B32) {
            return setpU32(r, a, b, mask, act);
        }
        return setpWide(r, a, b, t, mask, act);
    }

    /** Full-warp signed 32-bit compare, one loop per relation so each is a plain set-on-condition. */
    private static int setpS32Full(long[] r, int a, int b, int mask) {
        int res = 0;
        switch (mask) {
            case 1:
                for (int l = 0; l < 32; l++) {
                    res |= ((int) r[a + l] < (int) r[b + l] ? 1 : 0) << l;
                }
                return res;
            case 3:
                for (int l = 0; l < 32; l++) {
                    res |= ((int) r[a + l] <= (int) r[b + l] ? 1 : 0) << l;
                }
                return res;
            case 4:
                for (int l = 0; l < 32; l++) {
                    res |= ((int) r[a + l] > (int) r[b + l] ? 1 : 0) << l;
                }
                return res;
            case 6:
                for (int l = 0; l < 32; l++) {
                    res |= ((int) r[a + l] >= (int) r[b + l] ? 1 : 0) << l;
                }
                return res;
            case 2:
                for (int l = 0; l < 32; l++) {
                    res |= ((int) r[a + l] == (int) r[b + l] ? 1 : 0) << l;
                }
                return res;
            case 5:
                for (int l = 0; l < 32; l++) {
                    res |= ((int) r[a + l] != (int) r[b + l] ? 1 : 0) << l;
                }
                return res;
            default:
                return setpS32(r, a, b, mask, FULL);
        }
    }

    private static int setpS32(long[] r, int a, int b, int mask, int act) {
        int res = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            int x = (int) r[a + l];
            int y = (int) r[b + l];
            int outcome = x < y ? 1 : x == y ? 2 : 4;
            res |= (outcome & mask) != 0 ? 1 << l : 0;
        }
        return res;
    }

    private static int setpU32(long[] r, int a, int b, int mask, int act) {
        int res = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            int cmp = Integer.compareUnsigned((int) r[a + l], (int) r[b + l]);
            int outcome = cmp < 0 ? 1 : cmp == 0 ? 2 : 4;
            res |= (outcome & mask) != 0 ? 1 << l : 0;
        }
        return res;
    }

    private static int setpWide(long[] r, int a, int b, int t, int mask, int act) {
        int res = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            int cmp = Types.compare(Types.ext(r[a + l], t), Types.ext(r[b + l], t), t);
            int outcome = cmp < 0 ? 1 : cmp == 0 ? 2 : 4;
            res |= (outcome & mask) != 0 ? 1 << l : 0;
        }
        return res;
    }

    static void unpack(long[] r, int a, int lo, int hi, int shift, int act) {
        long lowMask = (1L << shift) - 1;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            long v = r[a + l];
            if (lo >= 0) {
                r[lo + l] = v & lowMask;
            }
            if (hi >= 0) {
                r[hi + l] = (v >>> shift) & lowMask;
            }
        }
    }
}
