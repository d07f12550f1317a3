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
    /** The strict-mode schedule of the current block (set by the block runner), or null. */
    SplittableRandom random;
    private final long[] scratch = new long[32];
    private final int[] scratchLane = new int[32];
    /** PC and group of the instruction that faulted, for fault reports. */
    int faultPc;
    int faultGroup;
    /** Value of this worker's warp-instruction counter past which the launch has run too long. */
    long instructionLimit = Long.MAX_VALUE;
    /** The launch's budget, for the timeout message. */
    long instructionBudget;

    Interpreter(KernelImage k, Counters c, MemoryUnit mem, BlockRunner blk, boolean sanitizer) {
        this.code = k.code;
        this.c = c;
        this.mem = mem;
        this.blk = blk;
        this.sanitizer = sanitizer;
    }

    /**
     * Runs warp {@code w} until none of its lanes can run, or until {@code budget} lane groups
     * have run (strict mode slices). Returns whether anything ran. Instruction counts are kept
     * in locals and added to the counters on the way out.
     */
    boolean run(Warp w, int budget) {
        final Insn[] code = this.code;
        final long[] r = w.regs;
        final int[] p = w.preds;
        final Counters c = this.c;
        final long limit = instructionLimit - c.warpInstructions;
        long wi = 0;
        long ti = 0;
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
                    wi++;
                    ti += Integer.bitCount(act);
                    switch (in.op) {
                        case Op.MOV: LaneOps.mov(r, in.d, in.a, act); break;
                        case Op.ADD: LaneOps.add(r, in.d, in.a, in.b, act); break;
                        case Op.SUB: LaneOps.sub(r, in.d, in.a, in.b, act); break;
                        case Op.MUL_LO: LaneOps.mulLo(r, in.d, in.a, in.b, act); break;
                        case Op.MAD_LO: LaneOps.madLo(r, in.d, in.a, in.b, in.c, act); break;
                        case Op.AND: LaneOps.and(r, in.d, in.a, in.b, act); break;
                        case Op.OR: LaneOps.or(r, in.d, in.a, in.b, act); break;
                        case Op.XOR: LaneOps.xor(r, in.d, in.a, in.b, act); break;
                        case Op.NOT: LaneOps.not(r, in.d, in.a, act); break;
                        case Op.NEG: LaneOps.neg(r, in.d, in.a, act); break;
                        case Op.SHL: LaneOps.shl(r, in.d, in.a, in.b, Types.bits(in.type), act); break;
                        case Op.SHR: LaneOps.shr(r, in.d, in.a, in.b, in.type, act); break;
                        case Op.MUL_WIDE: LaneOps.mulWide(r, in.d, in.a, in.b, in.type, act); break;
                        case Op.CVT_I2I: {
                            int d = in.d, a = in.a;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[d + l] = Cvt.intToInt(r[a + l], in);
                            }
                            break;
                        }
                        case Op.CVTA: LaneOps.cvta(r, in.d, in.a, in.imm, in.addrMask, act); break;
                        case Op.SELP: LaneOps.selp(r, in.d, in.a, in.b, p[in.c], act); break;
                        case Op.SETP_I:
                            writeSetp(in, p, act, LaneOps.setpInt(r, in.a, in.b, in.type, in.mode, act));
                            break;
                        case Op.SETP_F32:
                            writeSetp(in, p, act, FloatLaneOps.setpF32(r, in.a, in.b, in.mode, in.ftz, act));
                            break;
                        case Op.SETP_F64:
                            writeSetp(in, p, act, FloatLaneOps.setpF64(r, in.a, in.b, in.mode, act));
                            break;
                        case Op.UNPACK64:
                            LaneOps.unpack(r, in.a, in.vregs[0], in.vregs[1], 32, act);
                            break;
                        case Op.UNPACK32:
                            LaneOps.unpack(r, in.a, in.vregs[0], in.vregs[1], 16, act);
                            break;
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
                        case Op.ADD_F32:
                            if (in.plain) {
                                FloatLaneOps.addF32(r, in.d, in.a, in.b, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.SUB_F32:
                            if (in.plain) {
                                FloatLaneOps.subF32(r, in.d, in.a, in.b, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.MUL_F32:
                            if (in.plain) {
                                FloatLaneOps.mulF32(r, in.d, in.a, in.b, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.FMA_F32:
                            if (in.plain) {
                                FloatLaneOps.fmaF32(r, in.d, in.a, in.b, in.c, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.ADD_F64:
                            if (in.plain) {
                                FloatLaneOps.addF64(r, in.d, in.a, in.b, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.SUB_F64:
                            if (in.plain) {
                                FloatLaneOps.subF64(r, in.d, in.a, in.b, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.MUL_F64:
                            if (in.plain) {
                                FloatLaneOps.mulF64(r, in.d, in.a, in.b, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.FMA_F64:
                            if (in.plain) {
                                FloatLaneOps.fmaF64(r, in.d, in.a, in.b, in.c, act);
                            } else {
                                generic(in, r, act);
                            }
                            break;
                        case Op.BRA: {
                            if (wi > limit) {
                                throw timeout();
                            }
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
                            long t = c.warpInstructions + wi;
                            for (int m = act; m != 0; m &= m - 1) {
                                int l = Integer.numberOfTrailingZeros(m);
                                r[in.d + l] = in.mode == Special.CLOCK ? t & 0xFFFFFFFFL : t;
                            }
                            break;
                        }
                        case Op.LD:
                            if (act != 0) {
                                mem.load(w, in, act, pc);
                            }
                            break;
                        case Op.ST:
                            if (act != 0) {
                                mem.store(w, in, act, pc);
                            }
                            break;
                        case Op.ATOM:
                            if (act != 0) {
                                mem.atomic(w, in, act, pc);
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
        } catch (Fault f) {
            faultPc = pc;
            faultGroup = group;
            throw f;
        } catch (ArrayIndexOutOfBoundsException e) {
            faultPc = Math.max(0, Math.min(pc, code.length - 1));
            faultGroup = group;
            if (pc >= code.length - 1 || pc < 0) {
                throw new Fault(Fault.ILLEGAL, "execution ran past the end of the kernel", -1);
            }
            throw e;
        } finally {
            c.warpInstructions += wi;
            c.threadInstructions += ti;
        }
    }

    private Fault timeout() {
        return new Fault(Fault.TIMEOUT, String.format(
                "the launch ran more than %d warp instructions (EmulatorOptions.instructionBudget); blocks run one "
                        + "after another here, so a block that spins on a flag set by another block never ends",
                instructionBudget), -1);
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
