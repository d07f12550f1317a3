package io.jnorm.gpu.emu;

/**
 * shfl.sync, vote.sync and redux.sync over the participating lanes, after the rendezvous.
 * Every source value is read before any destination is written, because the destination
 * register may be the source register.
 */
final class WarpCollectives {
    private WarpCollectives() {
    }

    static void execute(Insn in, long[] r, int[] p, int part, long[] vals, int[] srcLane, boolean sanitizer) {
        switch (in.op) {
            case Op.SHFL: shfl(in, r, p, part, vals, srcLane, sanitizer); break;
            case Op.VOTE: vote(in, r, p, part); break;
            case Op.REDUX: redux(in, r, part); break;
            default: break;
        }
    }

    /** PTX ISA shfl.sync: c packs the clamp value (bits 0-4) and the segment mask (bits 8-12). */
    private static void shfl(Insn in, long[] r, int[] p, int part, long[] vals, int[] srcLane, boolean sanitizer) {
        if (part == LaneOps.FULL) {
            shflFull(in, r, p, vals);
            return;
        }
        int valid = 0;
        for (int m = part; m != 0; m &= m - 1) {
            int lane = Integer.numberOfTrailingZeros(m);
            int bval = (int) r[in.b + lane] & 31;
            int cv = (int) r[in.c + lane];
            int clamp = cv & 31;
            int segMask = (cv >>> 8) & 31;
            int maxLane = (lane & segMask) | (clamp & ~segMask);
            int minLane = lane & segMask;
            int j;
            boolean pval;
            switch (in.mode) {
                case 0: j = lane - bval; pval = j >= maxLane; break;
                case 1: j = lane + bval; pval = j <= maxLane; break;
                case 2: j = lane ^ bval; pval = j <= maxLane; break;
                default: j = minLane | (bval & ~segMask); pval = j <= maxLane; break;
            }
            if (!pval) {
                j = lane;
            }
            if (sanitizer && pval && ((part >>> j) & 1) == 0) {
                throw new Fault(Fault.WARP_SYNC, String.format(
                        "lane %d reads lane %d, which is not taking part in the shuffle (participants 0x%08x)",
                        lane, j, part), lane);
            }
            srcLane[lane] = j;
            if (pval) {
                valid |= 1 << lane;
            }
        }
        for (int m = part; m != 0; m &= m - 1) {
            int lane = Integer.numberOfTrailingZeros(m);
            vals[lane] = r[in.a + srcLane[lane]];
        }
        for (int m = part; m != 0; m &= m - 1) {
            int lane = Integer.numberOfTrailingZeros(m);
            r[in.d + lane] = vals[lane] & 0xFFFFFFFFL;
        }
        if (in.d2 >= 0) {
            p[in.d2] = (p[in.d2] & ~part) | (valid & part);
        }
    }

    /**
     * shfl.sync with all 32 lanes taking part (the usual case): every source lane participates,
     * so the sanitizer has nothing to check, and the mode is decided once, not per lane.
     */
    private static void shflFull(Insn in, long[] r, int[] p, long[] vals) {
        int a = in.a;
        int b = in.b;
        int c = in.c;
        int valid = 0;
        int mode = in.mode;
        for (int lane = 0; lane < 32; lane++) {
            int bval = (int) r[b + lane] & 31;
            int cv = (int) r[c + lane];
            int segMask = (cv >>> 8) & 31;
            int maxLane = (lane & segMask) | (cv & 31 & ~segMask);
            int j;
            boolean pval;
            if (mode == 0) {
                j = lane - bval;
                pval = j >= maxLane;
            } else if (mode == 1) {
                j = lane + bval;
                pval = j <= maxLane;
            } else if (mode == 2) {
                j = lane ^ bval;
                pval = j <= maxLane;
            } else {
                j = (lane & segMask) | (bval & ~segMask);
                pval = j <= maxLane;
            }
            vals[lane] = r[a + (pval ? j : lane)];
            valid |= (pval ? 1 : 0) << lane;
        }
        int d = in.d;
        for (int lane = 0; lane < 32; lane++) {
            r[d + lane] = vals[lane] & 0xFFFFFFFFL;
        }
        if (in.d2 >= 0) {
            p[in.d2] = valid;
        }
    }

    private static void vote(Insn in, long[] r, int[] p, int part) {
        int pv = (in.negA ? ~p[in.a] : p[in.a]) & part;
        int mode = in.mode;
        if (mode == 3) {
            for (int m = part; m != 0; m &= m - 1) {
                int lane = Integer.numberOfTrailingZeros(m);
                r[in.d + lane] = pv & 0xFFFFFFFFL;
            }
            return;
        }
        boolean res = mode == 0 ? pv == part : mode == 1 ? pv != 0 : (pv == 0 || pv == part);
        p[in.d] = res ? p[in.d] | part : p[in.d] & ~part;
    }

    private static void redux(Insn in, long[] r, int part) {
        int t = in.type;
        long acc = switch (in.mode) {
            case 1 -> Types.signed(t) ? Integer.MAX_VALUE : 0xFFFFFFFFL;
            case 2 -> Types.signed(t) ? Integer.MIN_VALUE : 0;
            case 3 -> 0xFFFFFFFFL;
            default -> 0;
        };
        for (int m = part; m != 0; m &= m - 1) {
            long v = Types.ext(r[in.a + Integer.numberOfTrailingZeros(m)], t);
            switch (in.mode) {
                case 0: acc += v; break;
                case 1: acc = Math.min(acc, v); break;
                case 2: acc = Math.max(acc, v); break;
                case 3: acc &= v; break;
                case 4: acc |= v; break;
                default: acc ^= v; break;
            }
        }
        for (int m = part; m != 0; m &= m - 1) {
            r[in.d + Integer.numberOfTrailingZeros(m)] = acc & 0xFFFFFFFFL;
        }
    }
}
