package io.jnorm.gpu.emu;

import io.jnorm.gpu.LaunchConfig;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs the blocks of one launch on one worker thread: owns the warps (reused from block to
 * block), the block's shared and local memory, and the barriers. Warps run in turn until every
 * one is blocked or done; then a complete barrier releases its threads. When nothing can move
 * and no barrier is complete, the block is deadlocked, which is reported instead of hanging.
 */
final class BlockRunner {
    private static final int BARRIERS = 16;

    final KernelImage k;
    private final LaunchConfig cfg;
    private final EmulatorOptions opts;
    private final Warp[] warps;
    private final int threads;
    private final Interpreter interp;
    final MemoryUnit mem;
    final byte[] shared;
    private final long[] sharedInit;
    final byte[] local;
    private final long seed;
    /** This runner's share of the launch's counters. */
    final Counters counters;
    /** Warp instructions of the launch's finished blocks, shared by its workers (the watchdog). */
    private AtomicLong launchInstructions;
    private SplittableRandom random;
    private int liveThreads;
    private int ctaX;
    private int ctaY;
    private int ctaZ;
    private final int[] arrived = new int[BARRIERS];
    private final int[] expected = new int[BARRIERS];
    private final int[] firstPc = new int[BARRIERS];
    private final boolean[] diverged = new boolean[BARRIERS];
    private final int[] redPopc = new int[BARRIERS];
    private final boolean[] redAnd = new boolean[BARRIERS];
    private final boolean[] redOr = new boolean[BARRIERS];

    BlockRunner(KernelImage k, LaunchConfig cfg, EmulatorOptions opts, DeviceMemory heap, byte[] params,
                AtomicLong launchInstructions) {
        this.k = k;
        this.counters = new Counters();
        this.launchInstructions = launchInstructions;
        this.cfg = cfg;
        this.opts = opts;
        this.threads = cfg.threadsPerBlock();
        int nw = (threads + 31) / 32;
        warps = new Warp[nw];
        for (int i = 0; i < nw; i++) {
            warps[i] = new Warp(k.slots, k.preds);
            warps[i].index = i;
            fillConstants(warps[i]);
        }
        int sharedBytes = k.dynamicSharedBase() + cfg.dynamicSharedBytes();
        shared = new byte[k.dynamicBaseSlot >= 0 || cfg.dynamicSharedBytes() > 0 ? sharedBytes : k.sharedStaticBytes];
        sharedInit = opts.sanitizer() ? new long[(shared.length + 63) / 64] : null;
        local = new byte[k.localBytes * threads];
        seed = opts.seed();
        mem = new MemoryUnit(heap, this, counters, opts.sanitizer(), params, k.code.length);
        interp = new Interpreter(k, counters, mem, this, opts.sanitizer());
        interp.instructionBudget = opts.instructionBudget();
        for (Warp w : warps) {
            fillSpecials(w, false);
        }
    }

    /** Whether this runner can run blocks of another launch of {@code kernel} with {@code config}. */
    boolean fits(KernelImage kernel, LaunchConfig config, EmulatorOptions options) {
        return k == kernel && cfg.equals(config) && opts.equals(options);
    }

    /**
     * Prepares this runner for the blocks of a new launch of the same kernel and configuration:
     * the warps, register files and shared memory are reused (every block starts from a reset
     * state anyway), the counters start from zero.
     */
    void startLaunch(byte[] params, AtomicLong instructions) {
        counters.clear();
        mem.params = params;
        launchInstructions = instructions;
    }

    private void fillConstants(Warp w) {
        for (int i = 0; i < k.constSlots.length; i++) {
            Arrays.fill(w.regs, k.constSlots[i], k.constSlots[i] + 32, k.constValues[i]);
        }
        if (k.dynamicBaseSlot >= 0) {
            Arrays.fill(w.regs, k.dynamicBaseSlot, k.dynamicBaseSlot + 32, k.dynamicSharedBase());
        }
    }

    /** Runs block (x, y, z) to completion. */
    void run(int x, int y, int z, long linearIndex) {
        ctaX = x;
        ctaY = y;
        ctaZ = z;
        if (opts.strict()) {
            // one schedule per block, so that it does not depend on which worker ran which blocks before
            random = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + linearIndex);
            interp.random = random;
            mem.random = random;
        }
        setUp();
        long before = counters.warpInstructions;
        interp.instructionLimit = before + Math.max(0, opts.instructionBudget() - launchInstructions.get());
        try {
            runWarps();
        } finally {
            launchInstructions.addAndGet(counters.warpInstructions - before);
        }
    }

    private void runWarps() {
        int nw = warps.length;
        int[] order = new int[nw];
        for (int i = 0; i < nw; i++) {
            order[i] = i;
        }
        while (true) {
            boolean progress = false;
            if (random != null) {
                shuffle(order);
            }
            for (int wi : order) {
                Warp w = warps[wi];
                int budget = random != null ? 1 + random.nextInt(8) : Integer.MAX_VALUE;
                try {
                    progress |= interp.run(w, budget);
                } catch (Fault f) {
                    throw located(f, w);
                }
            }
            if (liveThreads == 0) {
                return;
            }
            if (release()) {
                continue;
            }
            if (!progress) {
                throw deadlock();
            }
        }
    }

    private void shuffle(int[] order) {
        for (int i = order.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }

    private void setUp() {
        liveThreads = threads;
        Arrays.fill(arrived, 0);
        Arrays.fill(expected, 0);
        Arrays.fill(firstPc, -1);
        Arrays.fill(diverged, false);
        Arrays.fill(redPopc, 0);
        Arrays.fill(redAnd, true);
        Arrays.fill(redOr, false);
        Arrays.fill(shared, (byte) 0);
        if (sharedInit != null) {
            Arrays.fill(sharedInit, 0);
        }
        Arrays.fill(local, (byte) 0);
        for (Warp w : warps) {
            int first = w.index * 32;
            int lanes = Math.min(32, threads - first);
            w.exited = lanes == 32 ? 0 : -1 << lanes;
            w.barrierWait = 0;
            w.syncWait = 0;
            Arrays.fill(w.pc, 0);
            Arrays.fill(w.preds, 0);
            fillSpecials(w, true);
        }
    }

    private static boolean perBlock(int specialId) {
        return specialId == Special.CTAID_X || specialId == Special.CTAID_Y || specialId == Special.CTAID_Z;
    }

    /**
     * Fills the planes of the special registers that change from block to block ({@code
     * blockOnly}: %ctaid), or of the others, which depend only on the launch configuration and
     * are filled once (no instruction writes a special register's plane).
     */
    private void fillSpecials(Warp w, boolean blockOnly) {
        int first = w.index * 32;
        for (int i = 0; i < k.specialSlots.length; i++) {
            if (perBlock(k.specialIds[i]) != blockOnly) {
                continue;
            }
            int slot = k.specialSlots[i];
            for (int l = 0; l < 32; l++) {
                w.regs[slot + l] = special(k.specialIds[i], first + l, l, w.index);
            }
        }
    }

    private long special(int id, int tid, int lane, int warp) {
        int bx = cfg.blockX();
        int by = cfg.blockY();
        switch (id) {
            case Special.TID_X: return tid % bx;
            case Special.TID_Y: return (tid / bx) % by;
            case Special.TID_Z: return tid / (bx * by);
            case Special.NTID_X: return bx;
            case Special.NTID_Y: return by;
            case Special.NTID_Z: return cfg.blockZ();
            case Special.CTAID_X: return ctaX;
            case Special.CTAID_Y: return ctaY;
            case Special.CTAID_Z: return ctaZ;
            case Special.NCTAID_X: return cfg.gridX();
            case Special.NCTAID_Y: return cfg.gridY();
            case Special.NCTAID_Z: return cfg.gridZ();
            case Special.LANEID: return lane;
            case Special.WARPID: return warp;
            case Special.NWARPID: return warps.length;
            case Special.LANEMASK_EQ: return (1L << lane) & 0xFFFFFFFFL;
            case Special.LANEMASK_LE: return ((2L << lane) - 1) & 0xFFFFFFFFL;
            case Special.LANEMASK_LT: return ((1L << lane) - 1) & 0xFFFFFFFFL;
            case Special.LANEMASK_GE: return (0xFFFFFFFFL << lane) & 0xFFFFFFFFL;
            case Special.LANEMASK_GT: return (0xFFFFFFFFL << (lane + 1)) & 0xFFFFFFFFL;
            case Special.DYN_SMEM: return cfg.dynamicSharedBytes();
            case Special.TOTAL_SMEM: return shared.length;
            default: return 0;
        }
    }

    void exit(Warp w, int lanes) {
        int fresh = lanes & ~w.exited;
        w.exited |= fresh;
        liveThreads -= Integer.bitCount(fresh);
    }

    /** Threads arrive at a barrier; with {@code wait} they block until it completes. */
    void arrive(Warp w, Insn in, int lanes, int pc, boolean wait) {
        int first = Integer.numberOfTrailingZeros(lanes);
        int id = (int) w.regs[in.a + first];
        if (id < 0 || id >= BARRIERS) {
            throw new Fault(Fault.ILLEGAL, "barrier id " + id + " is outside 0..15", first);
        }
        if (in.b >= 0) {
            int count = (int) w.regs[in.b + first];
            if (count <= 0 || count % 32 != 0) {
                throw new Fault(Fault.ILLEGAL, "barrier thread count " + count + " is not a positive multiple of 32",
                        first);
            }
            expected[id] = count;
        }
        arrived[id] += Integer.bitCount(lanes);
        if (wait) {
            if (firstPc[id] < 0) {
                firstPc[id] = pc;
            } else if (firstPc[id] != pc) {
                diverged[id] = true;
            }
            w.barrierWait |= lanes;
            for (int m = lanes; m != 0; m &= m - 1) {
                w.barrierId[Integer.numberOfTrailingZeros(m)] = id;
            }
        }
        if (in.op == Op.BAR_RED) {
            int pv = (in.negC ? ~w.preds[in.c] : w.preds[in.c]) & lanes;
            redPopc[id] += Integer.bitCount(pv);
            redAnd[id] &= pv == lanes;
            redOr[id] |= pv != 0;
        }
    }

    private boolean release() {
        boolean any = false;
        for (int id = 0; id < BARRIERS; id++) {
            if (arrived[id] == 0) {
                continue;
            }
            int need = expected[id] > 0 ? expected[id] : liveThreads;
            if (arrived[id] < need) {
                continue;
            }
            if (diverged[id] && opts.sanitizer()) {
                throw new io.jnorm.gpu.GpuException(Fault.BARRIER_DIVERGENCE, String.format(
                        "kernel %s: threads of block %s waited at different barrier instructions with id %d (%s and others)",
                        k.name, block(), id, k.where(firstPc[id])));
            }
            for (Warp w : warps) {
                for (int m = w.barrierWait; m != 0; m &= m - 1) {
                    int l = Integer.numberOfTrailingZeros(m);
                    if (w.barrierId[l] != id) {
                        continue;
                    }
                    Insn in = k.code[w.pc[l]];
                    if (in.op == Op.BAR_RED) {
                        if (in.mode == 0) {
                            w.regs[in.d + l] = redPopc[id];
                        } else {
                            boolean v = in.mode == 1 ? redAnd[id] : redOr[id];
                            w.preds[in.d] = v ? w.preds[in.d] | (1 << l) : w.preds[in.d] & ~(1 << l);
                        }
                    }
                    w.pc[l]++;
                    w.barrierWait &= ~(1 << l);
                }
            }
            arrived[id] = 0;
            expected[id] = 0;
            firstPc[id] = -1;
            diverged[id] = false;
            redPopc[id] = 0;
            redAnd[id] = true;
            redOr[id] = false;
            any = true;
        }
        return any;
    }

    private io.jnorm.gpu.GpuException deadlock() {
        StringBuilder sb = new StringBuilder();
        int waitingBar = 0;
        int waitingSync = 0;
        int barPc = -1;
        int syncPc = -1;
        for (Warp w : warps) {
            waitingBar += Integer.bitCount(w.barrierWait);
            waitingSync += Integer.bitCount(w.syncWait);
            if (w.barrierWait != 0 && barPc < 0) {
                barPc = w.pc[Integer.numberOfTrailingZeros(w.barrierWait)];
            }
            if (w.syncWait != 0 && syncPc < 0) {
                syncPc = w.pc[Integer.numberOfTrailingZeros(w.syncWait)];
            }
        }
        sb.append(String.format("kernel %s: block %s cannot make progress: %d of %d threads exited, ", k.name,
                block(), threads - liveThreads, threads));
        sb.append(String.format("%d wait at a barrier%s, %d wait at a warp-synchronous instruction%s", waitingBar,
                barPc >= 0 ? " (" + k.where(barPc) + ")" : "", waitingSync,
                syncPc >= 0 ? " (" + k.where(syncPc) + ")" : ""));
        return new io.jnorm.gpu.GpuException(Fault.DEADLOCK, sb.toString());
    }

    private String block() {
        return "(" + ctaX + "," + ctaY + "," + ctaZ + ")";
    }

    private io.jnorm.gpu.GpuException located(Fault f, Warp w) {
        int lane = f.lane >= 0 ? f.lane : mem.lane >= 0 && ((interp.faultGroup >>> mem.lane) & 1) != 0 ? mem.lane
                : Integer.numberOfTrailingZeros(interp.faultGroup);
        if (lane > 31) {
            lane = 0;
        }
        int tid = w.index * 32 + lane;
        int bx = cfg.blockX();
        int by = cfg.blockY();
        String thread = "(" + tid % bx + "," + (tid / bx) % by + "," + tid / (bx * by) + ")";
        String where = interp.faultPc >= 0 && interp.faultPc < k.code.length ? k.where(interp.faultPc) : "?";
        return new io.jnorm.gpu.GpuException(f.status, String.format("kernel %s: %s at %s, block %s, thread %s",
                k.name, f.getMessage(), where, block(), thread));
    }

    boolean tracksSharedInit() {
        return sharedInit != null;
    }

    /** Offset of a checked shared access; marks or checks initialisation under the sanitizer. */
    int sharedOffset(long addr, int size, boolean write, int lane) {
        int off = checkShared(addr, size, write, lane);
        if (sharedInit != null) {
            for (int i = off; i < off + size; i++) {
                long bit = 1L << i;
                if (write) {
                    sharedInit[i >>> 6] |= bit;
                } else if ((sharedInit[i >>> 6] & bit) == 0) {
                    throw new Fault(Fault.UNINITIALIZED, String.format(
                            "__shared__ read of size %d at 0x%x reads memory no thread of this block has written",
                            size, addr), lane);
                }
            }
        }
        return off;
    }

    /** Offset of a shared access after the alignment and bounds checks, without touching init bits. */
    int checkShared(long addr, int size, boolean write, int lane) {
        if ((addr & (size - 1)) != 0) {
            throw new Fault(Fault.MISALIGNED, String.format("misaligned __shared__ %s of size %d at 0x%x",
                    write ? "write" : "read", size, addr), lane);
        }
        if (addr < 0 || addr + size > shared.length) {
            throw new Fault(Fault.OUT_OF_BOUNDS, String.format(
                    "invalid __shared__ %s of size %d at 0x%x, the block has %d bytes of shared memory",
                    write ? "write" : "read", size, addr, shared.length), lane);
        }
        return (int) addr;
    }

    int localOffset(Warp w, int lane, long addr, int size, boolean write) {
        if ((addr & (size - 1)) != 0) {
            throw new Fault(Fault.MISALIGNED, String.format("misaligned __local__ %s of size %d at 0x%x",
                    write ? "write" : "read", size, addr), lane);
        }
        if (addr < 0 || addr + size > k.localBytes) {
            throw new Fault(Fault.OUT_OF_BOUNDS, String.format(
                    "invalid __local__ %s of size %d at 0x%x, the thread has %d bytes of local memory",
                    write ? "write" : "read", size, addr, k.localBytes), lane);
        }
        return (w.index * 32 + lane) * k.localBytes + (int) addr;
    }
}
