package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuException;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static io.jnorm.gpu.emu.EmuTestSupport.expectFault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bar.red (__syncthreads_count/and/or), redux.sync, the lane order of atomics and the launch
 * watchdog, on nvcc's PTX (test resource warp_ops.ptx, from warp_ops.cu). Expected values are
 * computed here from the CUDA definitions of the intrinsics.
 */
class WarpOpsTest {

    private static GpuModule load(PtxEmulator emu) {
        return emu.loadModule("warp_ops.ptx", EmuTestSupport.resource("warp_ops.ptx"));
    }

    private static DevicePointer ints(PtxEmulator emu, int[] v) {
        DevicePointer p = emu.alloc(4L * v.length);
        emu.copyToDevice(p, 0, v, 0, v.length);
        return p;
    }

    private static int[] read(PtxEmulator emu, DevicePointer p, int n) {
        int[] out = new int[n];
        emu.copyToHost(out, 0, p, 0, n);
        return out;
    }

    /** Blocks of 80 threads (the last warp half full): all-zero, all-one and mixed predicates. */
    @Test
    void barRedCountsAndsAndOrsThePredicatesOfTheBlock() {
        int block = 80;
        int grid = 4;
        int n = block * grid;
        int[] pred = new int[n];
        Random rnd = new Random(7);
        for (int i = 0; i < block; i++) {
            pred[i] = 0;
            pred[block + i] = 1 + rnd.nextInt(5);
            pred[2 * block + i] = rnd.nextInt(3) == 0 ? -1 : 0;
            pred[3 * block + i] = i == block - 1 ? 9 : 0;
        }
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = load(emu);
            DevicePointer p = ints(emu, pred);
            DevicePointer count = ints(emu, new int[n]);
            DevicePointer all = ints(emu, new int[n]);
            DevicePointer any = ints(emu, new int[n]);
            emu.launch(emu.kernel(m, "bar_red"), LaunchConfig.of1d(grid, block),
                    KernelArgs.of().ptr(p).ptr(count).ptr(all).ptr(any));
            int[] gotCount = read(emu, count, n);
            int[] gotAll = read(emu, all, n);
            int[] gotAny = read(emu, any, n);
            for (int b = 0; b < grid; b++) {
                int ones = 0;
                for (int i = 0; i < block; i++) {
                    ones += pred[b * block + i] != 0 ? 1 : 0;
                }
                for (int i = 0; i < block; i++) {
                    int g = b * block + i;
                    assertEquals(ones, gotCount[g], "__syncthreads_count, block " + b + " thread " + i);
                    assertEquals(ones == block ? 1 : 0, gotAll[g], "__syncthreads_and, block " + b + " thread " + i);
                    assertEquals(ones > 0 ? 1 : 0, gotAny[g], "__syncthreads_or, block " + b + " thread " + i);
                }
            }
            assertEquals(3L * grid, emu.lastLaunchCounters().orElseThrow().barriers() / ((block + 31) / 32),
                    "three bar.red per warp");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0xFFFFFFFF, 0x0000FFFF, 0xA5A5A5A5, 0x80000001, 0x00000100})
    void reduxSyncOverTheMemberMask(int mask) {
        int threads = 64;
        int[] in = new int[threads];
        Random rnd = new Random(mask);
        for (int i = 0; i < threads; i++) {
            in[i] = rnd.nextInt(8) == 0 ? -rnd.nextInt(1000) : rnd.nextInt();
        }
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = load(emu);
            DevicePointer x = ints(emu, in);
            DevicePointer out = ints(emu, new int[6 * threads]);
            emu.launch(emu.kernel(m, "redux_ops"), LaunchConfig.of1d(1, threads),
                    KernelArgs.of().ptr(x).i32(mask).ptr(out));
            int[] got = read(emu, out, 6 * threads);
            for (int warp = 0; warp < threads / 32; warp++) {
                int add = 0;
                int min = Integer.MAX_VALUE;
                int max = 0;
                int and = -1;
                int or = 0;
                int xor = 0;
                for (int lane = 0; lane < 32; lane++) {
                    if ((mask >>> lane & 1) == 0) {
                        continue;
                    }
                    int v = in[warp * 32 + lane];
                    add += v;
                    min = Math.min(min, v);
                    max = Integer.compareUnsigned(v, max) > 0 ? v : max;
                    and &= v;
                    or |= v;
                    xor ^= v;
                }
                int[] expectMember = {add, min, max, and, or, xor};
                for (int lane = 0; lane < 32; lane++) {
                    int g = warp * 32 + lane;
                    int[] row = Arrays.copyOfRange(got, 6 * g, 6 * g + 6);
                    int[] expect = (mask >>> lane & 1) != 0 ? expectMember : new int[6];
                    assertArrayEquals(expect, row, String.format(
                            "redux add/min.s32/max.u32/and/or/xor, mask 0x%08x, warp %d lane %d", mask, warp, lane));
                }
            }
        }
    }

    @Test
    void reduxSyncWithAMaskNamingAnAbsentLaneIsReported() {
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = load(emu);
            DevicePointer x = ints(emu, new int[16]);
            DevicePointer out = ints(emu, new int[6 * 16]);
            expectFault(Fault.WARP_SYNC, () -> emu.launch(emu.kernel(m, "redux_ops"), LaunchConfig.of1d(1, 16),
                            KernelArgs.of().ptr(x).i32(0x0001FFFF).ptr(out)),
                    "kernel redux_ops", "redux.sync.add.u32", "names lanes that have exited or do not exist");
        }
    }

    private static int[] tickets(EmulatorOptions opts, int threads) {
        try (PtxEmulator emu = new PtxEmulator(opts)) {
            GpuModule m = load(emu);
            DevicePointer counter = ints(emu, new int[1]);
            DevicePointer out = ints(emu, new int[threads]);
            emu.launch(emu.kernel(m, "ticket"), LaunchConfig.of1d(1, threads), KernelArgs.of().ptr(counter).ptr(out));
            assertEquals(threads, read(emu, counter, 1)[0], "every thread took one ticket");
            return read(emu, out, threads);
        }
    }

    @Test
    void atomicsApplyInLaneOrderByDefault() {
        int[] got = tickets(EmulatorOptions.defaults(), 64);
        for (int t = 0; t < 64; t++) {
            assertEquals(t, got[t], "ticket of thread " + t);
        }
    }

    @Test
    void strictModeShufflesTheLaneOrderOfAtomics() {
        int shuffledWarps = 0;
        for (long seed = 1; seed <= 4; seed++) {
            EmulatorOptions strict = EmulatorOptions.defaults().withStrict(seed);
            int[] got = tickets(strict, 64);
            assertArrayEquals(got, tickets(strict, 64), "the same seed gives the same order, seed " + seed);
            for (int warp = 0; warp < 2; warp++) {
                int[] lanes = Arrays.copyOfRange(got, 32 * warp, 32 * warp + 32);
                int[] sorted = lanes.clone();
                Arrays.sort(sorted);
                for (int i = 1; i < 32; i++) {
                    assertEquals(sorted[0] + i, sorted[i], "one warp's tickets are consecutive, seed " + seed);
                }
                if (!Arrays.equals(sorted, lanes)) {
                    shuffledWarps++;
                }
            }
        }
        assertTrue(shuffledWarps >= 6, "strict mode left the lane order of atomics ascending in "
                + (8 - shuffledWarps) + " of 8 warps");
    }

    @Test
    void aBlockSpinningOnAFlagOfALaterBlockTimesOut() {
        EmulatorOptions opts = EmulatorOptions.fast().withInstructionBudget(100_000);
        try (PtxEmulator emu = new PtxEmulator(opts)) {
            GpuModule m = load(emu);
            DevicePointer flag = ints(emu, new int[1]);
            GpuException e = expectFault(Fault.TIMEOUT, () -> emu.launch(emu.kernel(m, "spin_on_flag"),
                            LaunchConfig.of1d(2, 32), KernelArgs.of().ptr(flag)),
                    "kernel spin_on_flag", "more than 100000 warp instructions", "block (0,0,0)", "warp_ops.ptx:");
            assertTrue(e.getMessage().contains("bra") || e.getMessage().contains("ld.volatile"), e.getMessage());
            // the same kernel ends when the flag is already set
            emu.copyToDevice(flag, 0, new int[] {1}, 0, 1);
            emu.launch(emu.kernel(m, "spin_on_flag"), LaunchConfig.of1d(2, 32), KernelArgs.of().ptr(flag));
        }
    }

    @Test
    void theBudgetCoversTheWholeLaunchNotOneBlock() {
        // each block of redux_ops runs far fewer than 200 warp instructions, 64 blocks far more
        try (PtxEmulator emu = new PtxEmulator(EmulatorOptions.fast())) {
            GpuModule m = load(emu);
            int threads = 64 * 32;
            DevicePointer x = ints(emu, new int[threads]);
            DevicePointer out = ints(emu, new int[6 * threads]);
            emu.launch(emu.kernel(m, "redux_ops"), LaunchConfig.of1d(64, 32), KernelArgs.of().ptr(x).i32(-1).ptr(out));
            long perLaunch = emu.lastLaunchCounters().orElseThrow().warpInstructions();
            assertTrue(perLaunch > 200 && perLaunch / 64 < 200, "warp instructions per launch: " + perLaunch);
        }
        // a budget only matters at branches, and redux_ops branches once per warp
        try (PtxEmulator emu = new PtxEmulator(EmulatorOptions.fast().withInstructionBudget(200))) {
            GpuModule m = load(emu);
            int threads = 64 * 32;
            DevicePointer x = ints(emu, new int[threads]);
            DevicePointer out = ints(emu, new int[6 * threads]);
            expectFault(Fault.TIMEOUT, () -> emu.launch(emu.kernel(m, "redux_ops"), LaunchConfig.of1d(64, 32),
                    KernelArgs.of().ptr(x).i32(-1).ptr(out)), "more than 200 warp instructions");
        }
    }

    @Test
    void theDefaultBudgetIsGenerousAndABadOneIsRejected() {
        assertEquals(1L << 34, EmulatorOptions.defaults().instructionBudget());
        assertEquals(1L << 34, EmulatorOptions.fast().withStrict(3).instructionBudget());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EmulatorOptions.defaults().withInstructionBudget(0));
        assertTrue(e.getMessage().contains("instructionBudget") && e.getMessage().contains("0"), e.getMessage());
    }

    @Test
    void aFaultingAtomicRequestChangesNoLane() {
        // hand-written: thread t adds 1 to counters[t]; with 20 counters, lanes 20..31 are out of bounds
        String ptx = ".version 9.0\n.target sm_80\n.address_size 64\n"
                + ".visible .entry add_each(.param .u64 p)\n{\n"
                + "  .reg .b32 %r<4>;\n  .reg .b64 %rd<4>;\n"
                + "  ld.param.u64 %rd1, [p];\n  mov.u32 %r1, %tid.x;\n  mul.wide.u32 %rd2, %r1, 4;\n"
                + "  add.s64 %rd3, %rd1, %rd2;\n  atom.global.add.u32 %r2, [%rd3], 1;\n  ret;\n}\n";
        for (EmulatorOptions opts : new EmulatorOptions[] {EmulatorOptions.defaults(),
            EmulatorOptions.defaults().withStrict(5)}) {
            try (PtxEmulator emu = new PtxEmulator(opts)) {
                GpuModule m = emu.loadModule("add_each.ptx", ptx);
                int[] start = new int[20];
                Arrays.fill(start, 40);
                DevicePointer counters = ints(emu, start);
                expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(m, "add_each"), LaunchConfig.of1d(1, 32),
                        KernelArgs.of().ptr(counters)), "invalid __global__ write of size 4", "thread (20,0,0)");
                assertArrayEquals(start, read(emu, counters, 20), "no lane of the faulting request was applied");
            }
        }
    }
}
