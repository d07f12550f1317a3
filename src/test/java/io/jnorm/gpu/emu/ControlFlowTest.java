package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.jnorm.gpu.emu.EmuTestSupport.expectFault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Divergence, reconvergence, barriers and warp collectives under partial masks. */
class ControlFlowTest {

    /** The C logic of divergent_loops in control.cu, for one thread, before the barrier. */
    private static int accOf(int t) {
        int acc = 0;
        for (int i = 0; i < (t % 7) + (t / 9); i++) {
            if (i % 3 == 0) {
                continue;
            }
            if ((t ^ i) % 5 == 0) {
                acc += 100;
                if (t % 2 != 0) {
                    break;
                }
            } else if ((i & 1) != 0) {
                acc += i * t;
            } else {
                acc -= i;
            }
        }
        return acc;
    }

    @ParameterizedTest
    @CsvSource({"false,0", "true,1", "true,2", "true,3"})
    void divergentLoopsEarlyExitAndBarrier(boolean strict, long seed) {
        EmulatorOptions o = strict ? EmulatorOptions.defaults().withStrict(seed) : EmulatorOptions.defaults();
        try (PtxEmulator emu = new PtxEmulator(o)) {
            GpuModule m = emu.loadModule("control.ptx", EmuTestSupport.resource("control.ptx"));
            int n = 128;
            DevicePointer out = emu.alloc(4L * n);
            emu.launch(emu.kernel(m, "divergent_loops"), LaunchConfig.of1d(1, n), KernelArgs.of().ptr(out));
            int[] got = new int[n];
            emu.copyToHost(got, 0, out, 0, n);
            int[] ref = new int[n];
            for (int t = 0; t < n; t++) {
                int acc = accOf(t);
                int u = (t + 1) % n;
                ref[t] = t % 11 == 3 ? -acc : (u % 11 == 3 ? acc : acc + accOf(u));
            }
            assertArrayEquals(ref, got);
            KernelCounters c = emu.lastLaunchCounters().orElseThrow();
            assertTrue(c.divergentBranches() > 0, "the loop diverges");
            if (!strict) {
                assertTrue(c.threadInstructions() < 32L * c.warpInstructions(), "divergence lowers SIMD efficiency");
            }
        }
    }

    @Test
    void voteAndShuffleUnderAPartialMask() {
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("control.ptx", EmuTestSupport.resource("control.ptx"));
            DevicePointer out = emu.alloc(4L * 4 * 32);
            emu.launch(emu.kernel(m, "vote_shfl_partial"), LaunchConfig.of1d(1, 32), KernelArgs.of().ptr(out));
            int[] got = new int[4 * 32];
            emu.copyToHost(got, 0, out, 0, got.length);
            for (int lane = 0; lane < 32; lane++) {
                if (lane < 10) {
                    assertEquals(0x2AA, got[4 * lane], "ballot of odd lanes among 0..9");
                    assertEquals(0x3FF, got[4 * lane + 1], "activemask inside the branch");
                    assertEquals(2 + 1, got[4 * lane + 2], "all(lane<20) and any(lane==3)");
                    assertEquals((9 - lane) * 7, got[4 * lane + 3], "shfl.idx from lane 9-lane");
                } else {
                    assertEquals(0, got[4 * lane] | got[4 * lane + 1] | got[4 * lane + 2] | got[4 * lane + 3]);
                }
            }
        }
    }

    /** Expected shuffle results derived by hand from the PTX ISA's shfl.sync pseudo-code. */
    @ParameterizedTest
    @CsvSource({
        // b, width, lane, down, up, xor, idx
        "1, 32, 0, 11, 1, 11, 11",
        "1, 32, 31, 311, 301, 301, 11",
        "2, 8, 6, 61, 41, 41, 21",
        "2, 8, 7, 71, 51, 51, 21",
        "2, 8, 9, 111, 91, 111, 101",
        "2, 8, 8, 101, 81, 101, 101",
        "5, 16, 12, 121, 71, 91, 51",
        "5, 16, 17, 221, 171, 201, 211",
        "37, 8, 9, 141, 91, 121, 131"})
    void shuffleModesAndSegments(int b, int width, int lane, int down, int up, int xor, int idx) {
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("control.ptx", EmuTestSupport.resource("control.ptx"));
            DevicePointer params = emu.alloc(8);
            emu.copyToDevice(params, 0, new int[] {b, width}, 0, 2);
            DevicePointer out = emu.alloc(4L * 4 * 32);
            emu.launch(emu.kernel(m, "shfl_modes"), LaunchConfig.of1d(1, 32), KernelArgs.of().ptr(params).ptr(out));
            int[] got = new int[4 * 32];
            emu.copyToHost(got, 0, out, 0, got.length);
            assertArrayEquals(new int[] {down, up, xor, idx}, java.util.Arrays.copyOfRange(got, 4 * lane, 4 * lane + 4));
        }
    }

    private static final String HEADER = ".version 9.0\n.target sm_75\n.address_size 64\n";

    @Test
    void barrierDeadlockIsReportedNotHung() {
        String ptx = HEADER + """
                .visible .entry two_barriers(.param .u64 out)
                {
                  .reg .pred %p<2>;
                  .reg .b32 %r<2>;
                  mov.u32 %r1, %tid.x;
                  setp.lt.u32 %p1, %r1, 32;
                  @%p1 bra $A;
                  bar.sync 2, 64;
                  ret;
                $A:
                  bar.sync 1, 64;
                  ret;
                }
                """;
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("dead.ptx", ptx);
            DevicePointer out = emu.alloc(4);
            expectFault(Fault.DEADLOCK, () -> emu.launch(emu.kernel(m, "two_barriers"), LaunchConfig.of1d(1, 64),
                    KernelArgs.of().ptr(out)), "kernel two_barriers", "block (0,0,0) cannot make progress",
                    "64 wait at a barrier", "dead.ptx:");
        }
    }

    @Test
    void barrierDivergenceIsReported() {
        String ptx = HEADER + """
                .visible .entry split_sync(.param .u64 out)
                {
                  .reg .pred %p<2>;
                  .reg .b32 %r<2>;
                  mov.u32 %r1, %tid.x;
                  setp.lt.u32 %p1, %r1, 32;
                  @%p1 bra $A;
                  bar.sync 0;
                  bra.uni $B;
                $A:
                  bar.sync 0;
                $B:
                  ret;
                }
                """;
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("split.ptx", ptx);
            DevicePointer out = emu.alloc(4);
            expectFault(Fault.BARRIER_DIVERGENCE, () -> emu.launch(emu.kernel(m, "split_sync"),
                    LaunchConfig.of1d(1, 64), KernelArgs.of().ptr(out)), "different barrier instructions",
                    "split.ptx:");
        }
    }

    @Test
    void raceWithoutBarrierFailsInStrictMode() {
        int n = 256;
        float[] in = new float[n];
        for (int i = 0; i < n; i++) {
            in[i] = i + 1;
        }
        // the default schedule runs warp 0 before warp 1 ..., which hides the missing barrier
        try (PtxEmulator emu = new PtxEmulator(EmulatorOptions.defaults())) {
            assertEquals(0, runRacy(emu, in));
        }
        int caught = 0;
        for (long seed = 1; seed <= 4; seed++) {
            try (PtxEmulator emu = new PtxEmulator(EmulatorOptions.defaults().withStrict(seed))) {
                runRacy(emu, in);
            } catch (io.jnorm.gpu.GpuException e) {
                assertEquals(Fault.UNINITIALIZED, e.status(), e.getMessage());
                assertTrue(e.getMessage().contains("racy_neighbour"));
                caught++;
            }
        }
        assertTrue(caught > 0, "strict mode must expose the race for some seed");
    }

    private static int runRacy(PtxEmulator emu, float[] in) {
        GpuModule m = emu.loadModule("kernels.ptx", EmuTestSupport.resource("kernels.ptx"));
        int n = in.length;
        DevicePointer din = emu.alloc(4L * n);
        DevicePointer dout = emu.alloc(4L * n);
        emu.copyToDevice(din, 0, in, 0, n);
        emu.launch(emu.kernel(m, "racy_neighbour"), LaunchConfig.of1d(1, n), KernelArgs.of().ptr(din).ptr(dout));
        float[] got = new float[n];
        emu.copyToHost(got, 0, dout, 0, n);
        int wrong = 0;
        for (int t = 0; t < n; t++) {
            if (got[t] != in[t >= 32 ? t - 32 : t]) {
                wrong++;
            }
        }
        return wrong;
    }
}
