package io.jnorm.gpu.emu;

import io.jnorm.gpu.DevicePointer;
import io.jnorm.gpu.GpuException;
import io.jnorm.gpu.GpuModule;
import io.jnorm.gpu.KernelArgs;
import io.jnorm.gpu.LaunchConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static io.jnorm.gpu.emu.EmuTestSupport.expectFault;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A free gives the allocation's host memory back (only a tombstone stays), and every misuse of
 * freed memory is still caught: use after free and double free from the host, and stale
 * pointers inside kernels, including through the per-instruction allocation hints.
 */
class FreedMemoryTest {
    private static final int MIB = 1 << 20;

    private static EmulatorOptions options(boolean sanitizer) {
        return EmulatorOptions.defaults().withSanitizer(sanitizer);
    }

    /** Host bytes a live allocation may hold: its data plus at most one shadow bit per byte, in whole longs. */
    private static long allowance(long bytes, boolean sanitizer) {
        return bytes + (sanitizer ? 8 * ((bytes + 63) / 64) : 0);
    }

    @ParameterizedTest(name = "sanitizer {0}")
    @ValueSource(booleans = {false, true})
    void twoThousandFreedMebibytesAreNotRetained(boolean sanitizer) {
        try (PtxEmulator emu = new PtxEmulator(options(sanitizer))) {
            DevicePointer kept = emu.alloc(MIB);
            emu.copyToDevice(kept, 0, new byte[]{1, 2, 3}, 0, 3);
            byte[] page = new byte[4096];
            for (int i = 0; i < 2000; i++) {
                DevicePointer p = emu.alloc(MIB);
                page[0] = (byte) i;
                emu.copyToDevice(p, MIB - page.length, page, 0, page.length);
                long live = allowance(MIB, sanitizer) * 2;
                assertTrue(emu.retainedHostBytes() <= live, String.format(
                        "iteration %d before free: %d host bytes retained for 2 live MiB (allowed %d)", i,
                        emu.retainedHostBytes(), live));
                emu.free(p);
                assertTrue(emu.retainedHostBytes() <= allowance(MIB, sanitizer), String.format(
                        "iteration %d after free: %d host bytes retained for 1 live MiB (allowed %d)", i,
                        emu.retainedHostBytes(), allowance(MIB, sanitizer)));
            }
            assertTrue(emu.retainedHostBytes() >= MIB, "the live allocation's data must still be held");
            assertEquals(MIB, emu.bytesInUse());
            byte[] back = new byte[3];
            emu.copyToHost(back, 0, kept, 0, 3);
            assertArrayEquals(new byte[]{1, 2, 3}, back, "the live allocation survives the churn around it");
            emu.free(kept);
            assertEquals(0, emu.retainedHostBytes(), "nothing live, nothing retained");
        }
    }

    @ParameterizedTest(name = "sanitizer {0}")
    @ValueSource(booleans = {false, true})
    void hostMisuseOfFreedMemoryIsReportedAsBefore(boolean sanitizer) {
        try (PtxEmulator emu = new PtxEmulator(options(sanitizer))) {
            DevicePointer p = emu.alloc(400);
            DevicePointer other = emu.alloc(400);
            emu.copyToDevice(p, 0, new float[100], 0, 100);
            emu.free(p);
            assertEquals(allowance(400, sanitizer), emu.retainedHostBytes(), "only the live allocation is held");

            GpuException twice = expectFault("EMU_DOUBLE_FREE", () -> emu.free(p));
            assertEquals(String.format("EMU_DOUBLE_FREE: free of 0x%x (400 bytes): the allocation was already freed",
                    p.address()), twice.getMessage());
            expectFault("EMU_USE_AFTER_FREE", () -> emu.copyToHost(new float[4], 0, p, 8, 4),
                    String.format("at 0x%x: allocation 0x%x (400 bytes) was freed", p.address() + 8, p.address()));
            expectFault("EMU_USE_AFTER_FREE", () -> emu.copyToDevice(p, 0, new float[4], 0, 4), "was freed");
            expectFault("EMU_USE_AFTER_FREE", () -> emu.memsetZero(p, 0, 16), "was freed");
            expectFault("EMU_USE_AFTER_FREE", () -> emu.copyDeviceToDevice(other, 0, p, 0, 16), "was freed");
            expectFault("EMU_USE_AFTER_FREE", () -> emu.copyDeviceToDevice(p, 0, other, 0, 16), "was freed");
            // inside the freed allocation but not its start: not a double free
            expectFault("CUDA_ERROR_INVALID_VALUE", () -> emu.free(new DevicePointer(p.address() + 4, 4)),
                    "not the start of an allocation");
        }
    }

    /**
     * copy_n runs once with live buffers, so its store instruction's hint is {@code out}; then
     * out is freed, a new buffer allocated, and the kernel relaunched with the stale pointer: the
     * write must fault, and neither the new buffer nor the input may change.
     */
    @ParameterizedTest(name = "sanitizer {0}")
    @ValueSource(booleans = {false, true})
    void aKernelWritingThroughAStalePointerIsCaught(boolean sanitizer) {
        try (PtxEmulator emu = new PtxEmulator(options(sanitizer))) {
            GpuModule m = emu.loadModule("faults.ptx", EmuTestSupport.resource("faults.ptx"));
            int n = 64;
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                values[i] = i + 0.5f;
            }
            DevicePointer in = emu.alloc(4L * n);
            emu.copyToDevice(in, 0, values, 0, n);
            DevicePointer out = emu.alloc(4L * n);
            emu.copyToDevice(out, 0, new float[n], 0, n);
            KernelArgs args = KernelArgs.of().ptr(in).ptr(out).i32(n).i32(0);
            emu.launch(emu.kernel(m, "copy_n"), LaunchConfig.of1d(2, 32), args);
            float[] got = new float[n];
            emu.copyToHost(got, 0, out, 0, n);
            assertArrayEquals(values, got, "the first launch copies");

            emu.free(out);
            DevicePointer fresh = emu.alloc(4L * n);
            float[] sentinel = new float[n];
            java.util.Arrays.fill(sentinel, -7f);
            emu.copyToDevice(fresh, 0, sentinel, 0, n);
            assertTrue(fresh.address() != out.address(), "addresses are never reused");

            expectFault(Fault.USE_AFTER_FREE, () -> emu.launch(emu.kernel(m, "copy_n"), LaunchConfig.of1d(2, 32), args),
                    String.format("__global__ write of size 4 at 0x%x", out.address()),
                    String.format("allocation 0x%x (%d bytes) was freed", out.address(), 4 * n),
                    "kernel copy_n", "faults.cu:5", "block (0,0,0)", "thread (0,0,0)");
            emu.copyToHost(got, 0, fresh, 0, n);
            assertArrayEquals(sentinel, got, "the stale write must not land in the new buffer");
            emu.copyToHost(got, 0, in, 0, n);
            assertArrayEquals(values, got, "the input is untouched");
        }
    }

    @Test
    void oldTombstonesAreMergedAndStillReported() {
        int cap = 8;
        DeviceMemory heap = new DeviceMemory(1L << 30, false, cap);
        List<DeviceMemory.Allocation> live = new ArrayList<>();
        List<DeviceMemory.Allocation> freed = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            DeviceMemory.Allocation a = heap.allocate(64 + 4 * (i % 7));
            if (i % 50 == 25) {
                live.add(a);
            } else {
                heap.free(a.base);
                freed.add(a);
            }
            int bound = 2 * (live.size() + cap) + 1;
            assertTrue(heap.entries() <= bound, String.format(
                    "after %d allocations: %d entries kept for %d live allocations (bound %d)", i + 1,
                    heap.entries(), live.size(), bound));
        }
        long liveBytes = live.stream().mapToLong(a -> a.size).sum();
        assertEquals(liveBytes, heap.retainedBytes());
        for (DeviceMemory.Allocation a : live) {
            assertTrue(heap.access(a.base + a.size - 4, 4, true, null, "__global__") == a, "live allocations resolve");
        }

        // the last cap frees keep their exact reports
        for (DeviceMemory.Allocation a : freed.subList(freed.size() - cap, freed.size())) {
            Fault f = assertThrows(Fault.class, () -> heap.access(a.base, 4, false, null, "__global__"));
            assertEquals(Fault.USE_AFTER_FREE, f.status);
            assertEquals(String.format("__global__ read of size 4 at 0x%x: allocation 0x%x (%d bytes) was freed",
                    a.base, a.base, a.size), f.getMessage());
            GpuException e = assertThrows(GpuException.class, () -> heap.free(a.base));
            assertEquals("EMU_DOUBLE_FREE", e.status());
            assertEquals(String.format("EMU_DOUBLE_FREE: free of 0x%x (%d bytes): the allocation was already freed",
                    a.base, a.size), e.getMessage());
        }
        // the oldest ones were merged: still a use after free and a double free, named by range
        DeviceMemory.Allocation oldest = freed.get(1);
        Fault f = assertThrows(Fault.class, () -> heap.access(oldest.base + 8, 8, true, null, "__global__"));
        assertEquals(Fault.USE_AFTER_FREE, f.status, f.getMessage());
        assertTrue(f.getMessage().contains("freed long ago"), f.getMessage());
        GpuException e = assertThrows(GpuException.class, () -> heap.free(oldest.base));
        assertEquals("EMU_DOUBLE_FREE", e.status(), e.getMessage());
        GpuException host = assertThrows(GpuException.class, () -> heap.hostRange(oldest.base, 4, "copyToHost"));
        assertEquals("EMU_USE_AFTER_FREE", host.status(), host.getMessage());
        // a stale hint to a merged-away tombstone still goes through the freed check
        Fault viaHint = assertThrows(Fault.class, () -> heap.access(oldest.base, 4, true, oldest, "__global__"));
        assertEquals(Fault.USE_AFTER_FREE, viaHint.status);
        assertTrue(viaHint.getMessage().contains(String.format("allocation 0x%x (%d bytes) was freed", oldest.base,
                oldest.size)), viaHint.getMessage());
        // reading past a live allocation between merged ranges is still out of bounds, named exactly
        DeviceMemory.Allocation mid = live.get(live.size() / 2);
        Fault oob = assertThrows(Fault.class, () -> heap.access(mid.base + mid.size, 4, false, null, "__global__"));
        assertEquals(Fault.OUT_OF_BOUNDS, oob.status);
        assertTrue(oob.getMessage().contains(String.format("0 bytes past the end of allocation 0x%x (%d bytes)",
                mid.base, mid.size)), oob.getMessage());
    }
}
