package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.jnorm.gpu.emu.EmuTestSupport.expectFault;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every fault class planted in a kernel (faults.ptx, built with -lineinfo) and caught, with a
 * message naming the kernel, the PTX line, the .cu line, the block and the thread.
 */
class SanitizerTest {
    private PtxEmulator emu;
    private GpuModule mod;

    @BeforeEach
    void setUp() {
        emu = new PtxEmulator();
        mod = emu.loadModule("faults.ptx", EmuTestSupport.resource("faults.ptx"));
    }

    @AfterEach
    void tearDown() {
        emu.close();
    }

    private DevicePointer filled(int n) {
        DevicePointer p = emu.alloc(4L * n);
        emu.copyToDevice(p, 0, new float[n], 0, n);
        return p;
    }

    @Test
    void readOnePastTheEnd() {
        DevicePointer in = filled(100);
        DevicePointer out = filled(128);
        expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(mod, "copy_n"), LaunchConfig.of1d(2, 64),
                        KernelArgs.of().ptr(in).ptr(out).i32(101).i32(0)),
                "kernel copy_n", "invalid __global__ read of size 4", "0 bytes past the end of allocation",
                "faults.ptx:", "ld.global.f32", "faults.cu:5", "block (1,0,0)", "thread (36,0,0)");
    }

    @Test
    void readBeforeTheStart() {
        DevicePointer pad = filled(64);
        DevicePointer in = filled(100);
        DevicePointer out = filled(128);
        expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(mod, "copy_n"), LaunchConfig.of1d(1, 32),
                        KernelArgs.of().ptr(in).ptr(out).i32(32).i32(-1)),
                "kernel copy_n", "block (0,0,0)", "thread (0,0,0)",
                // the address lies in pad's red zone, but in is the nearest allocation
                String.format("4 bytes before the start of allocation 0x%x (400 bytes)", in.address()));
        assertEquals(256, pad.bytes());
    }

    @Test
    void vectorReadStraddlingTheEnd() {
        DevicePointer in = filled(62);
        DevicePointer out = filled(32);
        expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(mod, "copy_vec4_at"), LaunchConfig.of1d(1, 16),
                        KernelArgs.of().ptr(in).ptr(out).i32(0)),
                String.format("invalid __global__ read of size 16 at 0x%x", in.address() + 240),
                String.format("runs 8 bytes past the end of allocation 0x%x (248 bytes)", in.address()),
                "thread (15,0,0)");
    }

    @Test
    void nullPointer() {
        DevicePointer out = filled(32);
        expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(mod, "copy_n"), LaunchConfig.of1d(1, 32),
                        KernelArgs.of().address(0).ptr(out).i32(32).i32(0)),
                "null or small pointer", "thread (0,0,0)");
    }

    @Test
    void misalignedVectorLoad() {
        DevicePointer in = filled(256);
        DevicePointer out = filled(32);
        expectFault(Fault.MISALIGNED, () -> emu.launch(emu.kernel(mod, "copy_vec4_at"), LaunchConfig.of1d(1, 32),
                        KernelArgs.of().ptr(in).ptr(out).i32(1)),
                "misaligned __global__ read of size 16", "ld.global.v4.f32", "faults.cu:9", "thread (0,0,0)");
    }

    @Test
    void useAfterFreeAndDoubleFree() {
        DevicePointer in = filled(64);
        DevicePointer out = filled(64);
        emu.free(in);
        expectFault(Fault.USE_AFTER_FREE, () -> emu.launch(emu.kernel(mod, "copy_n"), LaunchConfig.of1d(1, 32),
                KernelArgs.of().ptr(in).ptr(out).i32(32).i32(0)), "was freed", "kernel copy_n", "faults.cu:5");
        expectFault("EMU_DOUBLE_FREE", () -> emu.free(in), "already freed");
        expectFault("EMU_USE_AFTER_FREE", () -> emu.copyToHost(new float[4], 0, in, 0, 4), "was freed");
    }

    @Test
    void sharedOutOfBounds() {
        DevicePointer out = filled(64);
        expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(mod, "shared_dyn_index"),
                        LaunchConfig.of1d(1, 64).withDynamicShared(64 * 4), KernelArgs.of().ptr(out).i32(1)),
                "invalid __shared__ read of size 4 at 0x100", "256 bytes of shared memory", "faults.cu:16",
                "thread (63,0,0)");
    }

    @Test
    void dynamicSharedSizedRightPasses() {
        DevicePointer out = filled(64);
        emu.launch(emu.kernel(mod, "shared_dyn_index"), LaunchConfig.of1d(1, 64).withDynamicShared(65 * 4),
                KernelArgs.of().ptr(out).i32(0));
        float[] got = new float[64];
        emu.copyToHost(got, 0, out, 0, 64);
        assertEquals(63f, got[63]);
    }

    @Test
    void uninitialisedSharedRead() {
        DevicePointer out = filled(64);
        expectFault(Fault.UNINITIALIZED, () -> emu.launch(emu.kernel(mod, "shared_uninit"), LaunchConfig.of1d(1, 64),
                KernelArgs.of().ptr(out)), "no thread of this block has written", "faults.cu:22", "thread (32,0,0)");
    }

    @Test
    void uninitialisedDeviceMemoryRead() {
        DevicePointer in = emu.alloc(4 * 64);
        DevicePointer out = filled(64);
        expectFault(Fault.UNINITIALIZED, () -> emu.launch(emu.kernel(mod, "copy_n"), LaunchConfig.of1d(1, 32),
                KernelArgs.of().ptr(in).ptr(out).i32(32).i32(0)), "never-written device memory");
    }

    @Test
    void localArrayOutOfBounds() {
        DevicePointer out = filled(32);
        expectFault(Fault.OUT_OF_BOUNDS, () -> emu.launch(emu.kernel(mod, "local_index"), LaunchConfig.of1d(1, 32),
                KernelArgs.of().ptr(out).i32(4)), "invalid __local__ read of size 4 at 0x10", "16 bytes of local memory",
                "faults.cu:27");
    }

    @Test
    void fullMaskShuffleInsideABranchIsReported() {
        DevicePointer out = filled(32);
        expectFault(Fault.WARP_SYNC, () -> emu.launch(emu.kernel(mod, "shfl_in_branch"), LaunchConfig.of1d(1, 32),
                KernelArgs.of().ptr(out)), "kernel shfl_in_branch", "member mask 0xffffffff names lanes that have exited",
                "shfl.sync.bfly.b32", "block (0,0,0)");
    }

    @Test
    void fullMaskShuffleAfterEarlyExitIsReported() {
        DevicePointer out = filled(32);
        expectFault(Fault.WARP_SYNC, () -> emu.launch(emu.kernel(mod, "shfl_after_exit"), LaunchConfig.of1d(1, 32),
                KernelArgs.of().ptr(out).i32(20)), "names lanes that have exited or do not exist: 0xfff00000");
        // the same kernel is fine when no lane leaves
        emu.launch(emu.kernel(mod, "shfl_after_exit"), LaunchConfig.of1d(1, 32), KernelArgs.of().ptr(out).i32(32));
    }

    @Test
    void parameterMismatchIsRejectedBeforeLaunch() {
        DevicePointer out = filled(32);
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> emu.launch(emu.kernel(mod, "copy_n"), LaunchConfig.of1d(1, 32), KernelArgs.of().ptr(out).i32(1)));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("copy_n takes 4 parameters"), e.getMessage());
    }
}
