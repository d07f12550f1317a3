package io.jnorm.gpu.emu;

import io.jnorm.gpu.emu.DeviceMemory.Allocation;

import java.util.SplittableRandom;


/**
 * Warp-level loads, stores and atomics in every state space, with their checks and counters:
 * 32-byte sectors per global request (coalescing) and wavefronts per shared request (bank
 * conflicts). Addresses of one request are gathered first, so a fault in any lane stops the
 * whole request before a single lane writes.
 */
final class MemoryUnit {
    private final DeviceMemory heap;
    private final BlockRunner blk;
    private final Counters c;
    private final boolean sanitizer;
    /** The launch's parameter buffer. */
    byte[] params;
    private final long[] addrs = new long[32];
    private final int[] order = new int[32];
    /** The strict-mode schedule of the current block, or null. */
    SplittableRandom random;
    private final long[] sectorScratch = new long[64];
    private final int[] bankCount = new int[32];
    private final long[] bankWords = new long[32 * 32];
    /** The allocation each memory instruction (by PC) used last: the usual one for its next request. */
    private final Allocation[] hints;
    private Allocation hint;
    /** Lane whose access is being checked, for fault reports. */
    int lane = -1;

    MemoryUnit(DeviceMemory heap, BlockRunner blk, Counters c, boolean sanitizer, byte[] params, int codeLength) {
        this.hints = new Allocation[codeLength];
        this.heap = heap;
        this.blk = blk;
        this.c = c;
        this.sanitizer = sanitizer;
        this.params = params;
    }

    private static final int GLOBAL = KernelDecoder.SPACE_GLOBAL, SHARED = KernelDecoder.SPACE_SHARED,
            LOCAL = KernelDecoder.SPACE_LOCAL, PARAM = KernelDecoder.SPACE_PARAM, CONST = KernelDecoder.SPACE_CONST;

    /** Space of a generic address: its window, or global. */
    private static int generic(long addr) {
        if (addr - DeviceMemory.SHARED_WINDOW >= 0 && addr - DeviceMemory.SHARED_WINDOW < DeviceMemory.WINDOW_SIZE) {
            return SHARED;
        }
        if (addr - DeviceMemory.LOCAL_WINDOW >= 0 && addr - DeviceMemory.LOCAL_WINDOW < DeviceMemory.WINDOW_SIZE) {
            return LOCAL;
        }
        return GLOBAL;
    }

    private int gather(Warp w, Insn in, int act) {
        long[] r = w.regs;
        int a = in.a;
        long off = in.imm, mask = in.addrMask;
        long lo = Long.MAX_VALUE;
        long hi = Long.MIN_VALUE;
        long or = 0;
        if (act == LaneOps.FULL) {
            for (int l = 0; l < 32; l++) {
                long v = (r[a + l] + off) & mask;
                addrs[l] = v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
                or |= v;
            }
        } else {
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                long v = (r[a + l] + off) & mask;
                addrs[l] = v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
                or |= v;
            }
        }
        int space = in.space;
        if (space == KernelDecoder.SPACE_GENERIC) {
            space = generic(addrs[Integer.numberOfTrailingZeros(act)]);
            long base = space == SHARED ? DeviceMemory.SHARED_WINDOW : space == LOCAL ? DeviceMemory.LOCAL_WINDOW : 0;
            lo = Long.MAX_VALUE;
            hi = Long.MIN_VALUE;
            or = 0;
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                lane = l;
                if (generic(addrs[l]) != space) {
                    throw new Fault(Fault.ILLEGAL, "one generic access mixes state spaces across lanes", l);
                }
                long v = addrs[l] - base;
                addrs[l] = v;
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
                or |= v;
            }
        }
        minAddr = lo;
        maxAddr = hi;
        orAddr = or;
        return space;
    }

    /** Lowest and highest address and the OR of all addresses of the request gathered last. */
    private long minAddr;
    private long maxAddr;
    private long orAddr;

    /**
     * The backing array of a request whose every lane is aligned and inside one live, untracked
     * global allocation (the last one used) or inside shared memory without init tracking; null
     * when some lane needs the checked per-lane path (which then reports the fault, if any).
     * {@link #fastBase} is the address of the array's first byte.
     */
    private byte[] fastTarget(int space, int act, int total) {
        byte[] data;
        long base;
        long limit;
        if (space == GLOBAL || space == CONST) {
            Allocation al = hint;
            // a freed hint has no data (and no init bits): the checked path reports it
            if (al == null || al.freed || al.init != null || (data = al.data) == null) {
                return null;
            }
            base = al.base;
            limit = al.size;
        } else if (space == SHARED && !blk.tracksSharedInit()) {
            data = blk.shared;
            base = 0;
            limit = data.length;
        } else {
            return null;
        }
        if ((orAddr & (total - 1)) != 0 || minAddr < base || maxAddr - base > limit - total) {
            return null;
        }
        fastBase = base;
        return data;
    }

    private long fastBase;

    void load(Warp w, Insn in, int act, int pc) {
        hint = hints[pc];
        loadRequest(w, in, act);
        hints[pc] = hint;
    }

    private void loadRequest(Warp w, Insn in, int act) {
        int space = gather(w, in, act);
        int total = in.size * in.vec;
        count(space, act, total, false);
        long[] r = w.regs;
        byte[] fast = fastTarget(space, act, total);
        if (fast != null) {
            long base = fastBase;
            int t = in.type;
            if (in.vec == 1 && in.size == 4 && (t == Types.F32 || t == Types.U32 || t == Types.B32)) {
                int d = in.d;
                long[] ad = addrs;
                if (act == LaneOps.FULL) {
                    for (int l = 0; l < 32; l++) {
                        r[d + l] = (int) DeviceMemory.I32.get(fast, (int) (ad[l] - base)) & 0xFFFFFFFFL;
                    }
                    return;
                }
                for (int m = act; m != 0; m &= m - 1) {
                    int l = Integer.numberOfTrailingZeros(m);
                    r[d + l] = (int) DeviceMemory.I32.get(fast, (int) (ad[l] - base)) & 0xFFFFFFFFL;
                }
                return;
            }
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                int off = (int) (addrs[l] - base);
                if (in.vec == 1) {
                    r[in.d + l] = Types.ext(DeviceMemory.load(fast, off, in.size), t);
                } else {
                    for (int k = 0; k < in.vec; k++) {
                        int dst = in.vregs[k];
                        if (dst >= 0) {
                            r[dst + l] = Types.ext(DeviceMemory.load(fast, off + k * in.size, in.size), t);
                        }
                    }
                }
            }
            return;
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            lane = l;
            long addr = addrs[l];
            byte[] data;
            int off;
            switch (space) {
                case GLOBAL: case CONST: {
                    Allocation al = heap.access(addr, total, false, hint, space == CONST ? "__constant__" : "__global__");
                    hint = al;
                    off = (int) (addr - al.base);
                    if (sanitizer && al.init != null) {
                        long bad = al.firstUninit(off, total);
                        if (bad >= 0) {
                            throw new Fault(Fault.UNINITIALIZED, String.format(
                                    "read of size %d at 0x%x reads never-written device memory (byte 0x%x of allocation 0x%x)",
                                    total, addr, al.base + bad, al.base), l);
                        }
                    }
                    data = DeviceMemory.data(al, addr, total, false, space == CONST ? "__constant__" : "__global__");
                    break;
                }
                case SHARED:
                    off = blk.sharedOffset(addr, total, false, l);
                    data = blk.shared;
                    break;
                case LOCAL:
                    off = blk.localOffset(w, l, addr, total, false);
                    data = blk.local;
                    break;
                default:
                    if (addr < 0 || addr + total > params.length) {
                        throw new Fault(Fault.OUT_OF_BOUNDS, String.format(
                                "parameter read of size %d at offset %d, the parameters have %d bytes", total, addr,
                                params.length), l);
                    }
                    off = (int) addr;
                    data = params;
                    break;
            }
            if (in.vec == 1) {
                r[in.d + l] = Types.ext(DeviceMemory.load(data, off, in.size), in.type);
            } else {
                for (int k = 0; k < in.vec; k++) {
                    int dst = in.vregs[k];
                    if (dst >= 0) {
                        r[dst + l] = Types.ext(DeviceMemory.load(data, off + k * in.size, in.size), in.type);
                    }
                }
            }
        }
    }

    void store(Warp w, Insn in, int act, int pc) {
        hint = hints[pc];
        storeRequest(w, in, act);
        hints[pc] = hint;
    }

    private void storeRequest(Warp w, Insn in, int act) {
        int space = gather(w, in, act);
        int total = in.size * in.vec;
        if (space == PARAM || space == CONST) {
            throw new Fault(Fault.ILLEGAL, "store to a read-only state space", Integer.numberOfTrailingZeros(act));
        }
        count(space, act, total, true);
        long[] r = w.regs;
        byte[] fast = space == CONST ? null : fastTarget(space, act, total);
        if (fast != null) {
            long base = fastBase;
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                int off = (int) (addrs[l] - base);
                if (in.vec == 1) {
                    DeviceMemory.store(fast, off, in.size, r[in.b + l]);
                } else {
                    for (int k = 0; k < in.vec; k++) {
                        DeviceMemory.store(fast, off + k * in.size, in.size, r[in.vregs[k] + l]);
                    }
                }
            }
            return;
        }
        // check every lane before writing any, so a faulting request leaves memory unchanged
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            lane = l;
            if (space == GLOBAL) {
                hint = heap.access(addrs[l], total, true, hint, "__global__");
            } else if (space == SHARED) {
                blk.sharedOffset(addrs[l], total, true, l);
            } else {
                blk.localOffset(w, l, addrs[l], total, true);
            }
        }
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            long addr = addrs[l];
            byte[] data;
            int off;
            if (space == GLOBAL) {
                Allocation al = heap.access(addr, total, true, hint, "__global__");
                hint = al;
                off = (int) (addr - al.base);
                data = DeviceMemory.data(al, addr, total, true, "__global__");
                if (al.init != null) {
                    al.markInit(off, total);
                }
            } else if (space == SHARED) {
                off = blk.sharedOffset(addr, total, true, l);
                data = blk.shared;
            } else {
                off = blk.localOffset(w, l, addr, total, true);
                data = blk.local;
            }
            if (in.vec == 1) {
                DeviceMemory.store(data, off, in.size, r[in.b + l]);
            } else {
                for (int k = 0; k < in.vec; k++) {
                    DeviceMemory.store(data, off + k * in.size, in.size, r[in.vregs[k] + l]);
                }
            }
        }
    }

    void atomic(Warp w, Insn in, int act, int pc) {
        hint = hints[pc];
        atomicRequest(w, in, act);
        hints[pc] = hint;
    }

    private void atomicRequest(Warp w, Insn in, int act) {
        int space = gather(w, in, act);
        c.atomics++;
        long[] r = w.regs;
        int size = in.size;
        if (space != GLOBAL && space != SHARED) {
            throw new Fault(Fault.ILLEGAL, "atomic on a state space other than global or shared",
                    Integer.numberOfTrailingZeros(act));
        }
        // bounds, alignment and liveness of every lane first, so a faulting request changes nothing
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            lane = l;
            if (space == GLOBAL) {
                hint = heap.access(addrs[l], size, true, hint, "__global__");
            } else {
                blk.checkShared(addrs[l], size, false, l);
            }
        }
        int n = laneOrder(act);
        for (int i = 0; i < n; i++) {
            int l = order[i];
            lane = l;
            long addr = addrs[l];
            byte[] data;
            int off;
            if (space == GLOBAL) {
                Allocation al = heap.access(addr, size, true, hint, "__global__");
                hint = al;
                off = (int) (addr - al.base);
                if (sanitizer && al.init != null && al.firstUninit(off, size) >= 0) {
                    throw new Fault(Fault.UNINITIALIZED, String.format(
                            "atomic on never-written device memory at 0x%x", addr), l);
                }
                data = DeviceMemory.data(al, addr, size, true, "__global__");
                al.markInit(off, size);
            } else if (space == SHARED) {
                off = blk.sharedOffset(addr, size, false, l);
                data = blk.shared;
            } else {
                throw new Fault(Fault.ILLEGAL, "atomic on a state space other than global or shared", l);
            }
            long old = Atomics.apply(data, off, size, in, r[in.b + l], in.c >= 0 ? r[in.c + l] : 0);
            if (space == SHARED) {
                blk.sharedOffset(addr, size, true, l);
            }
            r[in.d + l] = Types.ext(old, in.type);
        }
    }

    /**
     * Puts the lanes of {@code act} into {@link #order} in the order their atomics apply and
     * returns how many there are: ascending lane order, or a random one in strict mode (the
     * hardware promises no order, so code must not depend on it).
     */
    private int laneOrder(int act) {
        int n = 0;
        for (int m = act; m != 0; m &= m - 1) {
            order[n++] = Integer.numberOfTrailingZeros(m);
        }
        SplittableRandom rnd = random;
        if (rnd != null) {
            for (int i = n - 1; i > 0; i--) {
                int j = rnd.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
        }
        return n;
    }

    private void count(int space, int act, int total, boolean store) {
        if (space == GLOBAL) {
            int sectors = sectors(act, total);
            if (store) {
                c.globalStoreRequests++;
                c.globalStoreBytes += (long) Integer.bitCount(act) * total;
                c.globalStoreSectors += sectors;
            } else {
                c.globalLoadRequests++;
                c.globalLoadBytes += (long) Integer.bitCount(act) * total;
                c.globalLoadSectors += sectors;
            }
        } else if (space == SHARED) {
            c.sharedRequests++;
            c.sharedWavefronts += wavefronts(act, total);
        }
    }

    /**
     * Distinct 32-byte sectors touched by the active lanes. A request within 64 sectors sets
     * bits; a wider one whose lanes touch ascending addresses counts changes of sector;
     * otherwise the sectors are sorted.
     */
    private int sectors(int act, int total) {
        long s0 = minAddr >>> 5;
        if (minAddr >= 0 && maxAddr >= minAddr && ((maxAddr + total - 1) >>> 5) - s0 < 64) {
            // the request spans at most 64 sectors: one bit per sector
            long bits = 0;
            long[] ad = addrs;
            if (act == LaneOps.FULL) {
                for (int l = 0; l < 32; l++) {
                    long a = ad[l];
                    bits |= (1L << ((a >>> 5) - s0)) | (1L << (((a + total - 1) >>> 5) - s0));
                }
            } else {
                for (int m = act; m != 0; m &= m - 1) {
                    long a = ad[Integer.numberOfTrailingZeros(m)];
                    bits |= (1L << ((a >>> 5) - s0)) | (1L << (((a + total - 1) >>> 5) - s0));
                }
            }
            return Long.bitCount(bits);
        }
        long prev = -1;
        int distinct = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            long first = addrs[l] >>> 5;
            long last = (addrs[l] + total - 1) >>> 5;
            if (first < prev || last < first) {
                return sortedSectors(act, total);
            }
            if (first != prev) {
                distinct++;
            }
            if (last != first) {
                distinct++;
            }
            prev = last;
        }
        return distinct;
    }

    private int sortedSectors(int act, int total) {
        long[] s = sectorScratch;
        int n = 0;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            long first = addrs[l] >>> 5;
            long last = (addrs[l] + total - 1) >>> 5;
            n = insert(s, n, first);
            if (last != first) {
                n = insert(s, n, last);
            }
        }
        int distinct = n == 0 ? 0 : 1;
        for (int i = 1; i < n; i++) {
            if (s[i] != s[i - 1]) {
                distinct++;
            }
        }
        return distinct;
    }

    /** Insertion into a sorted prefix; lanes usually ascend, so this is O(1) per lane. */
    private static int insert(long[] s, int n, long v) {
        int i = n - 1;
        while (i >= 0 && s[i] > v) {
            s[i + 1] = s[i];
            i--;
        }
        s[i + 1] = v;
        return n + 1;
    }

    /**
     * Wavefronts of a request of at most 4 bytes per lane when no two lanes touch different words
     * of one bank (the usual case: 1, or 0 for no lanes); -1 when some do.
     */
    private int conflictFreeWavefronts(int act) {
        int seen = 0;
        for (int m = act; m != 0; m &= m - 1) {
            long word = addrs[Integer.numberOfTrailingZeros(m)] >>> 2;
            int bank = (int) (word & 31);
            if ((seen & (1 << bank)) == 0) {
                seen |= 1 << bank;
                bankWords[bank] = word;
            } else if (bankWords[bank] != word) {
                return -1;
            }
        }
        return act == 0 ? 0 : 1;
    }

    /**
     * Shared-memory wavefronts of one request: 32 banks of 4-byte words; lanes that touch
     * different words of one bank conflict, the same word is a broadcast. 8-byte accesses are
     * processed per half warp and 16-byte accesses per quarter warp, as on the hardware, so a
     * conflict-free request of those widths takes 2 and 4 wavefronts.
     */
    private int wavefronts(int act, int total) {
        int lanesPerPhase = total <= 4 ? 32 : 128 / total;
        if (minAddr >= 0 && maxAddr >= minAddr && ((maxAddr + total - 1) >>> 2) - (minAddr >>> 2) < 32) {
            // all words lie in a window of 32 consecutive words: one word per bank, so no
            // conflicts and each phase with active lanes takes one wavefront
            int n = 0;
            for (int phase = 0; phase < 32; phase += lanesPerPhase) {
                int phaseMask = (int) ((1L << (phase + lanesPerPhase)) - (1L << phase));
                n += (act & phaseMask) != 0 ? 1 : 0;
            }
            return n;
        }
        if (total <= 4) {
            int w = conflictFreeWavefronts(act);
            if (w >= 0) {
                return w;
            }
        }
        int words = Math.max(1, total / 4);
        int sum = 0;
        for (int phase = 0; phase < 32; phase += lanesPerPhase) {
            int phaseMask = (int) ((1L << (phase + lanesPerPhase)) - (1L << phase));
            int lanes = act & phaseMask;
            if (lanes == 0) {
                continue;
            }
            int touched = 0;
            int worst = 0;
            for (int m = lanes; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                long word0 = addrs[l] >>> 2;
                for (int k = 0; k < words; k++) {
                    long word = word0 + k;
                    int bank = (int) (word & 31);
                    touched |= 1 << bank;
                    int cnt = bankCount[bank];
                    boolean seen = false;
                    for (int i = 0; i < cnt; i++) {
                        if (bankWords[bank * 32 + i] == word) {
                            seen = true;
                            break;
                        }
                    }
                    if (!seen && cnt < 32) {
                        bankWords[bank * 32 + cnt] = word;
                        bankCount[bank] = ++cnt;
                        worst = Math.max(worst, cnt);
                    }
                }
            }
            // only the banks this phase touched need clearing for the next one
            for (int m = touched; m != 0; m &= m - 1) {
                bankCount[Integer.numberOfTrailingZeros(m)] = 0;
            }
            sum += worst;
        }
        return sum;
    }
}
