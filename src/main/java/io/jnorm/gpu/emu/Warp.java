package io.jnorm.gpu.emu;

/**
 * Execution state of one warp: a planar register file ({@code regs[slot * 32 + lane]}, raw
 * bits), one 32-bit mask per predicate register, and a program counter per lane. Lanes are
 * grouped by equal PC when the warp runs; masks say which lanes have exited or wait at a
 * block barrier or at a warp-synchronous instruction.
 */
final class Warp {
    final long[] regs;
    final int[] preds;
    final int[] pc = new int[32];
    final int[] barrierId = new int[32];
    int index;
    int exited;
    int barrierWait;
    int syncWait;

    Warp(int slots, int predCount) {
        regs = new long[slots * 32];
        preds = new int[predCount];
    }

    int runnable() {
        return ~(exited | barrierWait | syncWait);
    }

    void setPc(int mask, int value) {
        if (mask == -1) {
            java.util.Arrays.fill(pc, value);
            return;
        }
        for (int m = mask; m != 0; m &= m - 1) {
            pc[Integer.numberOfTrailingZeros(m)] = value;
        }
    }

    /** Lanes whose PC equals {@code value}, among {@code mask}. */
    int lanesAt(int mask, int value) {
        int out = 0;
        for (int m = mask; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            if (pc[l] == value) {
                out |= 1 << l;
            }
        }
        return out;
    }
}
