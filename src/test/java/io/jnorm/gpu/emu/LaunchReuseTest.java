package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuException;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.KernelCounters;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Consecutive launches of one kernel and configuration reuse the block runner (warps, register
 * files, shared memory): no state may leak from one launch into the next, including from a
 * launch that faulted half way through a block.
 */
class LaunchReuseTest {

    private record Run(float[] out, KernelCounters counters) {
    }

    private static Run copy(PtxEmulator emu, GpuModule m, float[] in, int offset) {
        DevicePointer src = emu.alloc(4L * in.length);
        emu.copyToDevice(src, 0, in, 0, in.length);
        DevicePointer dst = emu.alloc(4L * in.length);
        emu.copyToDevice(dst, 0, new float[in.length], 0, in.length);
        emu.launch(emu.kernel(m, "copy_n"), LaunchConfig.of1d(2, 64),
                KernelArgs.of().ptr(src).ptr(dst).i32(in.length).i32(offset));
        float[] out = new float[in.length];
        emu.copyToHost(out, 0, dst, 0, in.length);
        return new Run(out, emu.lastLaunchCounters().orElseThrow());
    }

    private static float[] ramp(int n, float scale) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = scale * i;
        }
        return f;
    }

    @Test
    void aLaunchAfterAFaultingOneMatchesAFreshEmulator() {
        float[] in = ramp(100, 0.5f);
        Run fresh;
        try (PtxEmulator emu = new PtxEmulator()) {
            fresh = copy(emu, emu.loadModule("faults.ptx", EmuTestSupport.resource("faults.ptx")), in, 0);
        }
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("faults.ptx", EmuTestSupport.resource("faults.ptx"));
            // reads one element past the end: the launch stops inside block 1
            assertThrows(GpuException.class, () -> copy(emu, m, ramp(100, 1f), 1));
            Run again = copy(emu, m, in, 0);
            assertArrayEquals(fresh.out(), again.out());
            assertEquals(fresh.counters(), again.counters());
            Run third = copy(emu, m, in, 0);
            assertEquals(fresh.counters(), third.counters(), "counters start from zero at every launch");
        }
    }

    @Test
    void sharedMemoryOfThePreviousLaunchIsNotVisible() {
        // shared_uninit reads s[32..63], which nobody writes: the sanitizer must report it on
        // every launch, even though the previous launch's block left values there
        try (PtxEmulator emu = new PtxEmulator()) {
            GpuModule m = emu.loadModule("faults.ptx", EmuTestSupport.resource("faults.ptx"));
            DevicePointer out = emu.alloc(4 * 64);
            emu.copyToDevice(out, 0, new float[64], 0, 64);
            for (int i = 0; i < 2; i++) {
                GpuException e = assertThrows(GpuException.class, () -> emu.launch(emu.kernel(m, "shared_uninit"),
                        LaunchConfig.of1d(1, 64), KernelArgs.of().ptr(out)));
                assertEquals(Fault.UNINITIALIZED, e.status(), e.getMessage());
            }
        }
    }
}
