package io.jnorm.gpu.emu;

import java.util.SplittableRandom;

/**
 * Runs one warp: picks the group of lanes with the lowest PC (nvcc lays out code so that this
 * reconverges at the immediate post-dominator), runs it straight through until a branch, a join
 * label where other lanes wait, a barrier or a warp-synchronous instruction, then regroups.
 * Per-lane PCs mean no reconvergence stack is needed for correctness; grouping only decides
 * which lanes form one warp request for the counters. In strict mode the group is random.
 */
final class Interpreter {
    private final Insn[] code;
    private final Counters c;
    private final MemoryUnit mem;
    private final BlockRunner blk;
    private final boolean sanitizer;
    private final SplittableRandom random;
    private final long[] scratch = new long[32];
    private final int[] scratchLane = new int[32];
    /** PC and group of the instruction being executed, for fault reports. */
    int faultPc;
    int faultGroup;

    Interpreter(KernelImage k, Counters c, MemoryUnit mem, BlockRunner blk, boolean sanitizer,
                SplittableRandom random) {
        this.code = k.code;
        this.c = c;
        this.mem = mem;
        this.blk = blk;
        this.sanitizer = sanitizer;
        this.random = random;
    }

    /**
     * Runs warp {@code w} until none of its lanes can run, or until {@code budget} lane groups
     * have run (strict mode slices). Returns whether anything ran.
     */
    boolean run(Warp w, int budget) {
        final Insn[] code = this.code;
        final long[] r = w.regs;
        final int[] p = w.preds;
        final Counters c = this.c;
        boolean progress = false;
        int pc = 0;
        int group = 0;
        try {
            outer:
            while (budget-- > 0) {
                int runnable = w.runnable();
                if (runnable == 0) {
                    if (w.syncWait == 0 || !resumeSync(w)) {
                        return progress;
                    }
                    continue;
                }
                pc = pickPc(w, runnable);
                group = w.lanesAt(runnable, pc);
                progress = true;
                while (true) {
                    Insn in = code[pc];
                    int act = group;
                    if (in.guard >= 0) {
                        int pm = p[in.guard];
                        act &= in.guardNeg ? ~pm : pm;
                    }
                    c.warpInstructions++;
                    c.threadInstructions += Integer.bitCount(act);
                    faultPc = pc;
                    faultGroup = group;
                    switch (in.op) {
                        case Op.MOV: {
                            int d = in.d, a = in.a;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l];
                            }
                            break;
                        }
                        case Op.ADD: {
                            int d = in.d, a = in.a, b = in.b;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] + r[b + l];
                            }
                            break;
                        }
                        case Op.SUB: {
                            int d = in.d, a = in.a, b = in.b;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] - r[b + l];
                            }
                            break;
                        }
                        case Op.MUL_LO: {
                            int d = in.d, a = in.a, b = in.b;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] * r[b + l];
                            }
                            break;
                        }
                        case Op.MAD_LO: {
                            int d = in.d, a = in.a, b = in.b, cc = in.c;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] * r[b + l] + r[cc + l];
                            }
                            break;
                        }
                        case Op.AND: {
                            int d = in.d, a = in.a, b = in.b;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] & r[b + l];
                            }
                            break;
                        }
                        case Op.OR: {
                            int d = in.d, a = in.a, b = in.b;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] | r[b + l];
                            }
                            break;
                        }
                        case Op.XOR: {
                            int d = in.d, a = in.a, b = in.b;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = r[a + l] ^ r[b + l];
                            }
                            break;
                        }
                        case Op.NOT: {
                            int d = in.d, a = in.a;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = ~r[a + l];
                            }
                            break;
                        }
                        case Op.NEG: {
                            int d = in.d, a = in.a;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = -r[a + l];
                            }
                            break;
                        }
                        case Op.SHL: {
                            int d = in.d, a = in.a, b = in.b, bits = Types.bits(in.type);
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = IntOps.shl(r[a + l], r[b + l], bits);
                            }
                            break;
                        }
                        case Op.SHR: {
                            int d = in.d, a = in.a, b = in.b, t = in.type;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = IntOps.shr(r[a + l], r[b + l], t);
                            }
                            break;
                        }
                        case Op.MUL_WIDE: {
                            int d = in.d, a = in.a, b = in.b, t = in.type;
                            if (t == Types.S32) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = (long) (int) r[a + l] * (int) r[b + l];
                                }
                            } else {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = IntOps.mulWide(r[a + l], r[b + l], t);
                                }
                            }
                            break;
                        }
                        case Op.CVT_I2I: {
                            int d = in.d, a = in.a;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = Cvt.intToInt(r[a + l], in);
                            }
                            break;
                        }
                        case Op.CVTA: {
                            int d = in.d, a = in.a;
                            long off = in.imm, mask = in.addrMask;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = (r[a + l] + off) & mask;
                            }
                            break;
                        }
                        case Op.SELP: {
                            int d = in.d, a = in.a, b = in.b, pm = p[in.c];
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = ((pm >>> l) & 1) != 0 ? r[a + l] : r[b + l];
                            }
                            break;
                        }
                        case Op.SETP_I: {
                            int a = in.a, b = in.b, t = in.type, mask = in.mode, res = 0;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                int cmp = Types.compare(Types.ext(r[a + l], t), Types.ext(r[b + l], t), t);
                                int outcome = cmp < 0 ? 1 : cmp == 0 ? 2 : 4;
                                if ((mask & outcome) != 0) {
                                    res |= 1 << l;
                                }
                            }
                            writeSetp(in, p, act, res);
                            break;
                        }
                        case Op.SETP_F32: {
                            int a = in.a, b = in.b, mask = in.mode, res = 0;
                            boolean ftz = in.ftz;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                float x = Fp.f(r[a + l]);
                                float y = Fp.f(r[b + l]);
                                if (ftz) {
                                    x = Fp.ftz(x);
                                    y = Fp.ftz(y);
                                }
                                int outcome = x < y ? 1 : x == y ? 2 : x > y ? 4 : 8;
                                if ((mask & outcome) != 0) {
                                    res |= 1 << l;
                                }
                            }
                            writeSetp(in, p, act, res);
                            break;
                        }
                        case Op.SETP_F64: {
                            int a = in.a, b = in.b, mask = in.mode, res = 0;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                double x = Fp.d(r[a + l]);
                                double y = Fp.d(r[b + l]);
                                int outcome = x < y ? 1 : x == y ? 2 : x > y ? 4 : 8;
                                if ((mask & outcome) != 0) {
                                    res |= 1 << l;
                                }
                            }
                            writeSetp(in, p, act, res);
                            break;
                        }
                        case Op.UNPACK64: case Op.UNPACK32: {
                            int a = in.a, lo = in.vregs[0], hi = in.vregs[1];
                            int shift = in.op == Op.UNPACK64 ? 32 : 16;
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
                            break;
                        }
                        case Op.MOV_PRED: {
                            int v = in.a < 0 ? (in.imm != 0 ? -1 : 0) : p[in.a];
                            p[in.d] = (p[in.d] & ~act) | (v & act);
                            break;
                        }
                        case Op.AND_P: case Op.OR_P: case Op.XOR_P: {
                            int x = in.negA ? ~p[in.a] : p[in.a];
                            int y = in.negC ? ~p[in.b] : p[in.b];
                            int v = in.op == Op.AND_P ? x & y : in.op == Op.OR_P ? x | y : x ^ y;
                            p[in.d] = (p[in.d] & ~act) | (v & act);
                            break;
                        }
                        case Op.NOT_P:
                            p[in.d] = (p[in.d] & ~act) | (~p[in.a] & act);
                            break;
                        case Op.TESTP_F: {
                            int res = 0;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                if (FloatUnit.testp(in, r[in.a + l])) {
                                    res |= 1 << l;
                                }
                            }
                            p[in.d] = (p[in.d] & ~act) | (res & act);
                            break;
                        }
                        case Op.ADD_F32: {
                            int d = in.d, a = in.a, b = in.b;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Fp.f(r[a + l]) + Fp.f(r[b + l]));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.SUB_F32: {
                            int d = in.d, a = in.a, b = in.b;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Fp.f(r[a + l]) - Fp.f(r[b + l]));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.MUL_F32: {
                            int d = in.d, a = in.a, b = in.b;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Fp.f(r[a + l]) * Fp.f(r[b + l]));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.FMA_F32: {
                            int d = in.d, a = in.a, b = in.b, cc = in.c;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Math.fma(Fp.f(r[a + l]), Fp.f(r[b + l]), Fp.f(r[cc + l])));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.ADD_F64: {
                            int d = in.d, a = in.a, b = in.b;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Fp.d(r[a + l]) + Fp.d(r[b + l]));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.SUB_F64: {
                            int d = in.d, a = in.a, b = in.b;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Fp.d(r[a + l]) - Fp.d(r[b + l]));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.MUL_F64: {
                            int d = in.d, a = in.a, b = in.b;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Fp.d(r[a + l]) * Fp.d(r[b + l]));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.FMA_F64: {
                            int d = in.d, a = in.a, b = in.b, cc = in.c;
                            if (in.plain) {
                                for (int m = act; m != 0; m &= m - 1) {
                                    int l = Integer.numberOfTrailingZeros(m);
                                    r[d + l] = Fp.bits(Math.fma(Fp.d(r[a + l]), Fp.d(r[b + l]), Fp.d(r[cc + l])));
                                }
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        }
                        case Op.BRA: {
                            if (in.guard < 0 || act == group) {
                                if (in.guard >= 0) {
                                    c.branches++;
                                }
                                pc = in.target;
                                if (group != runnable) {
                                    w.setPc(group, pc);
                                    continue outer;
                                }
                                continue;
                            }
                            c.branches++;
                            if (act == 0) {
                                break;
                            }
                            c.divergentBranches++;
                            w.setPc(act, in.target);
                            w.setPc(group & ~act, pc + 1);
                            continue outer;
                        }
                        case Op.EXIT: {
                            blk.exit(w, act);
                            group &= ~act;
                            runnable &= ~act;
                            if (group == 0) {
                                continue outer;
                            }
                            break;
                        }
                        case Op.BAR_SYNC: case Op.BAR_RED: {
                            if (act == 0) {
                                break;
                            }
                            c.barriers++;
                            blk.arrive(w, in, act, pc, true);
                            w.setPc(act, pc);
                            group &= ~act;
                            runnable &= ~act;
                            if (group == 0) {
                                continue outer;
                            }
                            break;
                        }
                        case Op.BAR_ARRIVE:
                            if (act != 0) {
                                c.barriers++;
                                blk.arrive(w, in, act, pc, false);
                            }
                            break;
                        case Op.SHFL: case Op.VOTE: case Op.REDUX: case Op.WARP_SYNC: {
                            if (act == 0) {
                                break;
                            }
                            int part = rendezvous(w, in, act, pc);
                            if (part == 0) {
                                w.setPc(group, pc);
                                continue outer;
                            }
                            group |= part;
                            runnable |= part;
                            faultGroup = group;
                            WarpCollectives.execute(in, r, p, part, scratch, scratchLane, sanitizer);
                            break;
                        }
                        case Op.ACTIVEMASK: {
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[in.d + l] = group & 0xFFFFFFFFL;
                            }
                            break;
                        }
                        case Op.CLOCK: {
                            long t = c.warpInstructions;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[in.d + l] = in.mode == Special.CLOCK ? t & 0xFFFFFFFFL : t;
                            }
                            break;
                        }
                        case Op.LD:
                            if (act != 0) {
                                mem.load(w, in, act);
                            }
                            break;
                        case Op.ST:
                            if (act != 0) {
                                mem.store(w, in, act);
                            }
                            break;
                        case Op.ATOM:
                            if (act != 0) {
                                mem.atomic(w, in, act);
                            }
                            break;
                        case Op.NOP:
                            break;
                        default:
                            if (act != 0) {
                                generic(in, r, act);
                            }
                            break;
                    }
                    pc++;
                    if (code[pc].join && group != runnable) {
                        w.setPc(group, pc);
                        continue outer;
                    }
                }
            }
            w.setPc(group, pc);
            return progress;
        } catch (ArrayIndexOutOfBoundsException e) {
            if (pc >= code.length - 1 || pc < 0) {
                throw new Fault(Fault.ILLEGAL, "execution ran past the end of the kernel", -1);
            }
            throw e;
        }
    }

    private int pickPc(Warp w, int runnable) {
        if (random != null) {
            int n = Integer.bitCount(runnable);
            int m = runnable;
            for (int k = random.nextInt(n); k > 0; k--) {
                m &= m - 1;
            }
            return w.pc[Integer.numberOfTrailingZeros(m)];
        }
        int best = Integer.MAX_VALUE;
        for (int m = runnable; m != 0; m &= m - 1) {
            int v = w.pc[Integer.numberOfTrailingZeros(m)];
            if (v < best) {
                best = v;
            }
        }
        return best;
    }

    private static void writeSetp(Insn in, int[] p, int act, int res) {
        int q = ~res;
        if (in.imm != 0) {
            int cv = in.negC ? ~p[in.c] : p[in.c];
            switch ((int) in.imm) {
                case 1: res &= cv; q &= cv; break;
                case 2: res |= cv; q |= cv; break;
                default: res ^= cv; q ^= cv; break;
            }
        }
        p[in.d] = (p[in.d] & ~act) | (res & act);
        if (in.d2 >= 0) {
            p[in.d2] = (p[in.d2] & ~act) | (q & act);
        }
    }

    /** The rarely hot instructions: one static call per lane, operands absent read plane 0 (zero). */
    private static void generic(Insn in, long[] r, int act) {
        int d = in.d, a = Math.max(in.a, 0), b = Math.max(in.b, 0), cc = Math.max(in.c, 0), e = Math.max(in.e, 0);
        boolean fl = in.op >= Op.ADD_F32 && in.op <= Op.SETP_F64 || in.op == Op.CVT_F || in.op == Op.SLCT;
        for (int m = act; m != 0; m &= m - 1) {
            int l = Integer.numberOfTrailingZeros(m);
            r[d + l] = fl ? FloatUnit.eval(in, r[a + l], r[b + l], r[cc + l])
                    : IntUnit.eval(in, r[a + l], r[b + l], r[cc + l], r[e + l]);
        }
    }

    /**
     * Warp-synchronous rendezvous: every non-exited lane of the member mask must have reached
     * this instruction. Returns the participating lanes, or 0 when the group must wait.
     */
    private int rendezvous(Warp w, Insn in, int act, int pc) {
        long[] r = w.regs;
        int first = Integer.numberOfTrailingZeros(act);
        int mask = (int) r[in.e + first];
        if (sanitizer) {
            for (int m = act; m != 0; m &= m - 1) {
                int l = Integer.numberOfTrailingZeros(m);
                if ((int) r[in.e + l] != mask) {
                    throw new Fault(Fault.WARP_SYNC, String.format(
                            "lanes of one warp executed it with different member masks (0x%08x in lane %d, 0x%08x in lane %d)",
                            mask, first, (int) r[in.e + l], l), l);
                }
            }
            if ((act & ~mask) != 0) {
                int l = Integer.numberOfTrailingZeros(act & ~mask);
                throw new Fault(Fault.WARP_SYNC, String.format(
                        "lane %d executed it with member mask 0x%08x, which does not include itself", l, mask), l);
            }
            if ((mask & w.exited) != 0) {
                throw new Fault(Fault.WARP_SYNC, String.format(
                        "member mask 0x%08x names lanes that have exited or do not exist: 0x%08x", mask,
                        mask & w.exited), first);
            }
        }
        int arrived = act | w.lanesAt(w.syncWait, pc);
        int needed = mask & ~w.exited;
        if ((needed & ~arrived) != 0) {
            w.syncWait |= act;
            return 0;
        }
        w.syncWait &= ~arrived;
        return arrived;
    }

    /** Releases the lowest-PC group of sync-waiting lanes whose member mask is complete. */
    private boolean resumeSync(Warp w) {
        int pending = w.syncWait;
        while (pending != 0) {
            int pc = Integer.MAX_VALUE;
            for (int m = pending; m != 0; m &= m - 1) {
                pc = Math.min(pc, w.pc[Integer.numberOfTrailingZeros(m)]);
            }
            int lanes = w.lanesAt(pending, pc);
            Insn in = code[pc];
            int mask = (int) w.regs[in.e + Integer.numberOfTrailingZeros(lanes)];
            int needed = mask & ~w.exited;
            if ((needed & ~lanes) == 0 || (sanitizer && (mask & w.exited) != 0)) {
                w.syncWait &= ~lanes;
                return true;
            }
            pending &= ~lanes;
        }
        return false;
    }
}
