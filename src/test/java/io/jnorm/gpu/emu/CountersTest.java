package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Counters on kernels whose coalescing and bank behaviour is known by construction. */
class CountersTest {
    private PtxEmulator emu;
    private GpuModule mod;

    @BeforeEach
    void setUp() {
        emu = new PtxEmulator();
        mod = emu.loadModule("kernels.ptx", EmuTestSupport.resource("kernels.ptx"));
    }

    @AfterEach
    void tearDown() {
        emu.close();
    }

    private DevicePointer zeros(long bytes) {
        DevicePointer p = emu.alloc(bytes);
        emu.memsetZero(p, 0, bytes);
        return p;
    }

    @Test
    void coalescedF32CopyTouchesFourSectorsPerRequest() {
        int n = 32 * 64;
        DevicePointer in = zeros(4L * n);
        DevicePointer out = zeros(4L * n);
        emu.launch(emu.kernel(mod, "copy_f32"), LaunchConfig.of1d(n / 128, 128), KernelArgs.of().ptr(in).ptr(out).i32(n));
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        assertEquals(64, c.globalLoadRequests());
        assertEquals(64, c.globalStoreRequests());
        assertEquals(4.0, c.loadSectorsPerRequest());
        assertEquals(4.0, c.storeSectorsPerRequest());
        assertEquals(4L * n, c.globalLoadBytes());
        assertEquals(4L * n, c.globalStoreBytes());
        assertEquals(0, c.divergentBranches());
    }

    @Test
    void float4CopyTouchesSixteenSectorsPerRequest() {
        int n4 = 32 * 8;
        DevicePointer in = zeros(16L * n4);
        DevicePointer out = zeros(16L * n4);
        emu.launch(emu.kernel(mod, "copy_f32x4"), LaunchConfig.of1d(n4 / 64, 64), KernelArgs.of().ptr(in).ptr(out).i32(n4));
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        assertEquals(8, c.globalLoadRequests());
        assertEquals(16.0, c.loadSectorsPerRequest());
        assertEquals(16.0, c.storeSectorsPerRequest());
    }

    @ParameterizedTest
    @CsvSource({"1, 4", "2, 8", "8, 32", "32, 32", "0, 1"})
    void stridedLoadsTouchOneSectorPerLaneBeyondEight(int stride, double sectors) {
        int n = 32 * 4;
        DevicePointer in = zeros(4L * n * Math.max(stride, 1));
        DevicePointer out = zeros(4L * n);
        emu.launch(emu.kernel(mod, "copy_f32_stride"), LaunchConfig.of1d(4, 32),
                KernelArgs.of().ptr(in).ptr(out).i32(n).i32(stride));
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        assertEquals(sectors, c.loadSectorsPerRequest());
        assertEquals(4.0, c.storeSectorsPerRequest());
    }

    /**
     * smem_stride stores 33 conflict-free rows (33 requests, 1 wavefront each), then loads
     * s[t * stride]: stride 1 is conflict free, stride 2 a 2-way conflict, stride 32 puts all 32
     * lanes in bank 0 (32 wavefronts), stride 0 is a broadcast (1 wavefront).
     */
    @ParameterizedTest
    @CsvSource({"1, 1", "2, 2", "32, 32", "0, 1", "33, 1"})
    void sharedBankConflicts(int stride, int loadWavefronts) {
        DevicePointer out = zeros(4L * 32);
        emu.launch(emu.kernel(mod, "smem_stride"), LaunchConfig.of1d(1, 32), KernelArgs.of().ptr(out).i32(stride));
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        assertEquals(34, c.sharedRequests());
        assertEquals(33 + loadWavefronts, c.sharedWavefronts());
        float[] got = new float[32];
        emu.copyToHost(got, 0, out, 0, 32);
        for (int t = 0; t < 32; t++) {
            assertEquals((t * stride) % (32 * 33), got[t], 0f);
        }
    }

    @Test
    void doubleSharedAccessesTakeTwoPhases() {
        // reduce_f64 stores one double per warp and warp 0 loads 4 of them: each an 8-byte request
        DevicePointer in = zeros(8 * 128);
        DevicePointer out = zeros(8);
        emu.launch(emu.kernel(mod, "reduce_f64"), LaunchConfig.of1d(1, 128), KernelArgs.of().ptr(in).ptr(out).i32(128));
        KernelCounters c = emu.lastLaunchCounters().orElseThrow();
        // 4 single-lane stores (1 wavefront each) + 1 load by lanes 0..3 (one half-warp phase)
        assertEquals(5, c.sharedRequests());
        assertEquals(5, c.sharedWavefronts());
        assertEquals(4, c.barriers());
        assertEquals(1, c.atomics());
    }

    @Test
    void accumulatedCountersSumLaunches() {
        int n = 256;
        DevicePointer in = zeros(4L * n);
        DevicePointer out = zeros(4L * n);
        for (int i = 0; i < 3; i++) {
            emu.launch(emu.kernel(mod, "copy_f32"), LaunchConfig.of1d(2, 128), KernelArgs.of().ptr(in).ptr(out).i32(n));
        }
        KernelCounters one = emu.lastLaunchCounters().orElseThrow();
        KernelCounters all = emu.accumulatedCounters("copy_f32").orElseThrow();
        assertEquals(3 * one.warpInstructions(), all.warpInstructions());
        assertEquals(3 * one.globalLoadSectors(), all.globalLoadSectors());
    }
}
